import ArgumentParser
import PomonaCLI

await PomonaCommand.main()
