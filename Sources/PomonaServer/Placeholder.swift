enum _PlaceholderPomonaServer {}
