"""The city's gazetteer (地址库, GB/T 30428.3 地理编码): roads, doorplates, landmarks, intersections; geocoding."""
