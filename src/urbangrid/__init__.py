"""UrbanGrid: the platform a city's urban-management bureau (城管局) runs its grid management on."""

__version__ = "0.1.0"
