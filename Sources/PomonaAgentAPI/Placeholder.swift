enum _PlaceholderPomonaAgentAPI {}
