import PomonaCLI

await PomonaCommand.main()
