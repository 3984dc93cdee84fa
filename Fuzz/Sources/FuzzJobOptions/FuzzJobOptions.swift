/// libFuzzer entry point: the jobs dialect's option text (clip times, heights, booleans, language
/// lists) must never crash, and every accepted value keeps its bounds.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    if let seconds = OptionText.seconds(text) {
        precondition(seconds.isFinite && seconds >= 0, "seconds out of range")
        precondition(text.utf8.count <= 32, "an over-long time accepted")
    }
    let allowed = [2160, 1440, 1080, 720, 480, 360, 240, 144]
    if let height = OptionText.height(text, allowed: allowed) { precondition(allowed.contains(height)) }
    if let flag = OptionText.bool(text) { precondition(text == (flag ? "true" : "false") || text == (flag ? "1" : "0")) }
    for item in OptionText.list(text) {
        precondition(!item.isEmpty && !item.contains(",") && item.first != " " && item.last != " ", "a list item kept its padding")
    }
    return 0
}
