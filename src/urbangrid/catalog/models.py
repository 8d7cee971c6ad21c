"""Responsibility list (责任清单): catalogue versions, classes, rules, components."""
