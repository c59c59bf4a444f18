import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// PostgreSQL's own client library, libpq, loaded when a PostgreSQL history is first used
/// (`dlopen("libpq.so.5")`), not linked: a build, and a `rehearse` binary, that never use
/// PostgreSQL need neither libpq nor its headers, and compile nothing more for it (a Swift
/// client, postgres-nio, added minutes to every cold build). These are the entry points the
/// history uses, with the signatures of `libpq-fe.h` (libpq's ABI has been stable since 2004).
struct LibPQ: @unchecked Sendable {
    typealias Connection = OpaquePointer
    typealias Result = OpaquePointer

    let connectdb: @convention(c) (UnsafePointer<CChar>) -> Connection?
    let status: @convention(c) (Connection?) -> Int32
    let errorMessage: @convention(c) (Connection?) -> UnsafePointer<CChar>?
    let finish: @convention(c) (Connection?) -> Void
    let resultStatus: @convention(c) (Result?) -> Int32
    let resultErrorMessage: @convention(c) (Result?) -> UnsafePointer<CChar>?
    let resultErrorField: @convention(c) (Result?, Int32) -> UnsafePointer<CChar>?
    let ntuples: @convention(c) (Result?) -> Int32
    let nfields: @convention(c) (Result?) -> Int32
    let fname: @convention(c) (Result?, Int32) -> UnsafePointer<CChar>?
    let ftype: @convention(c) (Result?, Int32) -> UInt32
    let getvalue: @convention(c) (Result?, Int32, Int32) -> UnsafePointer<CChar>?
    let getisnull: @convention(c) (Result?, Int32, Int32) -> Int32
    let getlength: @convention(c) (Result?, Int32, Int32) -> Int32
    let cmdTuples: @convention(c) (Result?) -> UnsafePointer<CChar>?
    let clear: @convention(c) (Result?) -> Void
    let connectdbParams: @convention(c) (UnsafePointer<UnsafePointer<CChar>?>, UnsafePointer<UnsafePointer<CChar>?>, Int32) -> Connection?
    let conninfoParse: @convention(c) (UnsafePointer<CChar>, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> UnsafeMutableRawPointer?
    let conninfoFree: @convention(c) (UnsafeMutableRawPointer?) -> Void
    let freemem: @convention(c) (UnsafeMutableRawPointer?) -> Void
    let sendQuery: @convention(c) (Connection?, UnsafePointer<CChar>) -> Int32
    let sendQueryParams: @convention(c) (
        Connection?, UnsafePointer<CChar>, Int32, UnsafePointer<UInt32>?, UnsafePointer<UnsafePointer<CChar>?>?,
        UnsafePointer<Int32>?, UnsafePointer<Int32>?, Int32
    ) -> Int32
    let socket: @convention(c) (Connection?) -> Int32
    let consumeInput: @convention(c) (Connection?) -> Int32
    let isBusy: @convention(c) (Connection?) -> Int32
    let getResult: @convention(c) (Connection?) -> Result?

    /// `PQconninfoOption` is `{ char *keyword, *envvar, *compiled, *val, *label, *dispchar; int dispsize; }`:
    /// the keyword first, the value fourth, the whole padded to a pointer's alignment.
    private static let optionStride = (6 * MemoryLayout<UnsafeRawPointer>.size + MemoryLayout<Int32>.size
        + MemoryLayout<UnsafeRawPointer>.alignment - 1) / MemoryLayout<UnsafeRawPointer>.alignment * MemoryLayout<UnsafeRawPointer>.alignment
    private static let valueOffset = 3 * MemoryLayout<UnsafeRawPointer>.size

    /// The options a connection string or URL sets (percent-decoded), or libpq's reason it cannot be read.
    func parse(_ conninfo: String) -> Swift.Result<[(keyword: String, value: String)], LoadFailure> {
        var error: UnsafeMutablePointer<CChar>?
        guard let options = conninfo.withCString({ conninfoParse($0, &error) }) else {
            let message = error.map { String(cString: $0) } ?? "it cannot be read"
            freemem(error)
            return .failure(LoadFailure(description: message))
        }
        defer { conninfoFree(options) }
        var parsed: [(keyword: String, value: String)] = []
        var cursor = options
        while let keyword = cursor.load(as: UnsafeMutablePointer<CChar>?.self) {
            if let value = cursor.load(fromByteOffset: Self.valueOffset, as: UnsafeMutablePointer<CChar>?.self) {
                parsed.append((String(cString: keyword), String(cString: value)))
            }
            cursor += Self.optionStride
        }
        return .success(parsed)
    }

    /// `CONNECTION_OK`, `PGRES_COMMAND_OK`, `PGRES_TUPLES_OK`, `PG_DIAG_SQLSTATE` ('C').
    static let connectionOK: Int32 = 0
    static let commandOK: Int32 = 1
    static let tuplesOK: Int32 = 2
    static let sqlstateField = Int32(UInt8(ascii: "C"))

    /// The library, loaded once; or why it cannot be.
    static let shared: Swift.Result<LibPQ, LoadFailure> = load()

    struct LoadFailure: Error, CustomStringConvertible {
        var description: String
    }

    private static func load() -> Swift.Result<LibPQ, LoadFailure> {
        var handle: UnsafeMutableRawPointer?
        var errors: [String] = []
        for name in ["libpq.so.5", "libpq.so"] {
            handle = dlopen(name, RTLD_NOW | RTLD_LOCAL)
            if handle != nil { break }
            errors.append(dlerror().map { String(cString: $0) } ?? name)
        }
        guard let handle else {
            return .failure(LoadFailure(description: "libpq cannot be loaded (\(errors.joined(separator: "; ")))"))
        }
        let names = ["PQconnectdb", "PQstatus", "PQerrorMessage", "PQfinish", "PQresultStatus",
                     "PQresultErrorMessage", "PQresultErrorField", "PQntuples", "PQnfields", "PQfname", "PQftype", "PQgetvalue",
                     "PQgetisnull", "PQgetlength", "PQcmdTuples", "PQclear", "PQconnectdbParams", "PQconninfoParse",
                     "PQconninfoFree", "PQfreemem", "PQsendQuery", "PQsendQueryParams", "PQsocket", "PQconsumeInput",
                     "PQisBusy", "PQgetResult"]
        let missing = names.filter { dlsym(handle, $0) == nil }
        guard missing.isEmpty else {
            return .failure(LoadFailure(description: "the libpq found lacks \(missing.joined(separator: ", "))"))
        }
        func symbol<T>(_ name: String) -> T { unsafeBitCast(dlsym(handle, name)!, to: T.self) }
        return .success(LibPQ(
            connectdb: symbol("PQconnectdb"), status: symbol("PQstatus"), errorMessage: symbol("PQerrorMessage"),
            finish: symbol("PQfinish"), resultStatus: symbol("PQresultStatus"), resultErrorMessage: symbol("PQresultErrorMessage"),
            resultErrorField: symbol("PQresultErrorField"), ntuples: symbol("PQntuples"), nfields: symbol("PQnfields"),
            fname: symbol("PQfname"), ftype: symbol("PQftype"), getvalue: symbol("PQgetvalue"), getisnull: symbol("PQgetisnull"),
            getlength: symbol("PQgetlength"), cmdTuples: symbol("PQcmdTuples"), clear: symbol("PQclear"),
            connectdbParams: symbol("PQconnectdbParams"), conninfoParse: symbol("PQconninfoParse"),
            conninfoFree: symbol("PQconninfoFree"), freemem: symbol("PQfreemem"), sendQuery: symbol("PQsendQuery"),
            sendQueryParams: symbol("PQsendQueryParams"), socket: symbol("PQsocket"), consumeInput: symbol("PQconsumeInput"),
            isBusy: symbol("PQisBusy"), getResult: symbol("PQgetResult")))
    }
}
