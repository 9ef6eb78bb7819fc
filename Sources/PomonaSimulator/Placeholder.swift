enum _PlaceholderSim {}
