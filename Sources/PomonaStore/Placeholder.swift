enum _PlaceholderPomonaStore {}
