import HTTPCore

/// libFuzzer entry point: the small parsers that read header and field values —
/// datetimes, Basic credentials, multipart boundaries, routed paths — must never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    _ = DateTime.parse(text)
    _ = Credentials.basic(text)
    _ = Credentials.basic("Basic " + text)
    _ = Multipart.boundary(fromContentType: text)
    _ = Multipart.boundary(fromContentType: "multipart/form-data; " + text)
    _ = ContentDisposition.attachment(filename: text)
    _ = router.match(method: "GET", path: text)
    _ = Pagination(FormParser.parse(text))
    return 0
}

let router: Router<Int> = {
    var r = Router<Int>(suffixes: [".xml"])
    r.any("/api/items/create", 1)
    r.get("/api/items/:sku", 2)
    r.any("/api/orders/:id/send_email", 3)
    return r
}()
