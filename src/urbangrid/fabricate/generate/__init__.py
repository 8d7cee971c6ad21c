"""Megacity datasets (特大城市数据): ``urbangrid generate`` builds a scaled city and N cases with full histories."""
