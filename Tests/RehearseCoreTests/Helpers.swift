import Foundation
import RehearseTestSupport

extension Fixtures {
    static var validBlueGreen: String { path("plans/valid/blue-green.yml") }
}

enum FileManagerProbe {
    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }
}
