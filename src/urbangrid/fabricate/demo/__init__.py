"""The demo city: a deterministic city of a bureau's size (53 grids, 5/23/55 party organisations, 501 party
members, the 5/54 event and 6/85 component responsibility list; README, Quick start)."""
