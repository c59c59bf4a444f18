import ArgumentParser

/// `--wait DURATION`: how long a command that changes a target waits for another run that holds
/// the target's copy (exit 75 when it is still held).
struct WaitOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("How long to wait for another run that holds the target's copy (default: 0, exit 75 at once, naming the holder).", valueName: "duration"),
            transform: ArgumentTypes.duration)
    var wait: Duration = .zero
}
