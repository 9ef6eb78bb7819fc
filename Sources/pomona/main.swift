print("pomona")
