import ArgumentParser
import PomonaCLI

/// The executable's entry point: `pomona <command>`.
@main
struct PomonaMain {
    static func main() async {
        // In an async context the async `main()` of AsyncParsableCommand is chosen, which runs
        // async subcommands (`serve`) as well as synchronous ones.
        await PomonaCommand.main()
    }
}
