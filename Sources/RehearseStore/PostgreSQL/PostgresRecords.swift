import GRDB

/// Rows of a PostgreSQL history read and written as the SQLite history's records (``RunRow``,
/// ``ActivityRow``): one set of column names and one decoding for both stores.
extension PostgresRow {
    /// The row as GRDB reads one: integers as integers, booleans as 0 and 1, the rest as text.
    var databaseRow: Row {
        var values: [String: DatabaseValue] = [:]
        for (name, index) in columns {
            guard let text = self.values[index] else {
                values[name] = .null
                continue
            }
            switch types[index] {
            case 16: values[name] = (text == "t" ? Int64(1) : 0).databaseValue
            case 20, 21, 23: values[name] = Int64(text)?.databaseValue ?? .null
            default: values[name] = text.databaseValue
            }
        }
        return Row(values)
    }

    func record<Record: FetchableRecord>(_ type: Record.Type) throws(PostgresFailure) -> Record {
        do {
            return try Record(row: databaseRow)
        } catch {
            throw PostgresFailure(message: "a row of the history cannot be read: \(error)", sqlstate: "XX000")
        }
    }
}

extension EncodableRecord {
    /// The record's columns (quoted: `user` is a keyword in PostgreSQL) and their values, but `excluded`.
    func postgresColumns(excluding excluded: Set<String> = ["id"]) throws(PostgresFailure) -> (names: [String], values: [(any PostgresValue)?]) {
        let dictionary: [String: DatabaseValue]
        do {
            dictionary = try databaseDictionary
        } catch {
            throw PostgresFailure(message: "a record cannot be encoded: \(error)", sqlstate: "XX000")
        }
        var names: [String] = []
        var values: [(any PostgresValue)?] = []
        for (name, value) in dictionary.sorted(by: { $0.key < $1.key }) where !excluded.contains(name) {
            names.append("\"\(name)\"")
            switch value.storage {
            case .null: values.append(nil)
            case .int64(let number): values.append(name == "timed_out" ? number != 0 : number)
            case .double(let number): values.append(Int64(number))
            case .string(let text): values.append(text)
            case .blob(let data): values.append(String(decoding: data, as: UTF8.self))
            }
        }
        return (names, values)
    }
}

/// `$1, $2, …` for `count` parameters from `first`.
func postgresPlaceholders(_ count: Int, from first: Int = 1) -> String {
    (first..<(first + count)).map { "$\($0)" }.joined(separator: ", ")
}
