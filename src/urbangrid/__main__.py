from urbangrid.cli import main

main()
