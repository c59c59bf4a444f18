public import Foundation

extension PostgresHistory {
    public func importRuns(from source: String, since: Date? = nil) async throws(HistoryError) -> ImportSummary {
        throw HistoryError(.other, path: location, message: "import is not there yet", remedy: "")
    }

    public func exportRuns(to path: String, since: Date? = nil) async throws(HistoryError) -> ImportSummary {
        throw HistoryError(.other, path: location, message: "export is not there yet", remedy: "")
    }
}
