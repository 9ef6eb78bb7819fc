enum _PlaceholderPomonaCLI {}
