/// libFuzzer entry point: the PostgreSQL driver's SQL text work (placeholders numbered outside
/// quotes and comments, the schema's DDL rewritten) must never crash, and leaves text without
/// anything to change as it is.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    let marks = text.unicodeScalars.filter { $0 == "?" }.count
    let rendered = PostgresSQL.renderPlaceholders(text)
    precondition(rendered.count <= marks, "more placeholders than question marks")
    if marks == 0 { precondition(rendered.sql == text, "text without ? was changed") }
    if !text.unicodeScalars.contains(where: { "'\"-/".unicodeScalars.contains($0) }) {
        precondition(rendered.count == marks, "a bare ? was not numbered")
    }
    let translated = PostgresSQL.translateSchema(text)
    let upper = text.uppercased()
    if !["INTEGER", "REAL", "BLOB", "TRIM"].contains(where: { upper.contains($0) }) {
        precondition(translated == text, "DDL without anything to rewrite was changed")
    }
    return 0
}
