import DriftCore
import Foundation
import Logging

enum Terminal {
    static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }

    /// One line on standard error, prefixed so it stands out in logs; in JSON log mode (`LOG_FORMAT`, see
    /// `LogSetup`) a JSON record of level `error` instead, so a log collector reads every line of the process.
    static func fail(_ message: String) {
        write(message, level: .error, prefix: "drift-worker: error: ")
    }

    static func info(_ message: String) {
        write(message, level: .info, prefix: "drift-worker: ")
    }

    private static func write(_ message: String, level: Logger.Level, prefix: String) {
        let line: String
        switch LogSetup.format() {
        case .text: line = prefix + message + "\n"
        case .json: line = JSONLogHandler.render(time: Date(), level: level, label: "drift-worker", message: message, metadata: [:])
        }
        FileHandle.standardError.write(Data(line.utf8))
    }
}
