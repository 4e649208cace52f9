import ArgumentParser
import DriftCore

struct ValidateConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate-config",
        abstract: "Check a monitors.yaml file; report every problem with its line and column.",
        discussion: "${VAR} in the file is replaced by the environment variable VAR. Exit status 2 when the file has problems.")

    @Argument(help: "The monitors file.") var file: String

    func run() throws {
        do {
            let monitors = try MonitorsFile.load(path: file)
            for m in monitors {
                print("\(m.name): model \(m.model), \(m.features.count) features, windows \(m.schedule.length) (lateness \(m.schedule.lateness)), sample \(m.sampleSize) (min \(m.minSample)), policy \(m.policy.consecutive) windows / cooldown \(m.policy.cooldown)")
                if !m.actions.isEmpty {
                    let fired = Set(m.policy.actions)
                    print("  actions: " + m.actions.keys.sorted().map { "\($0) (\(m.actions[$0]!.preset)\(fired.contains($0) ? ", fired by the policy" : ""))" }.joined(separator: ", "))
                }
            }
            print("\(file): \(monitors.count) monitor(s), no problems")
        } catch let e as ConfigError {
            for issue in e.issues { Terminal.fail(issue.description) }
            throw ExitStatus.badInput
        }
    }
}
