import ArgumentParser
import RehearseCLI

/// The `rehearse` executable: everything lives in RehearseCLI so tests can call it.
@main
struct RehearseMain {
    static func main() async {
        await Rehearse.main()
    }
}
