import CCurl

/// A caller's "stop now?" for a curl transfer (a job that lost its lease), asked from the
/// transfer's progress callback: whenever bytes move, and at least once a second.
final class TransferStop {
    private let shouldStop: () -> Bool

    init(_ shouldStop: @escaping () -> Bool) { self.shouldStop = shouldStop }

    /// Runs `perform` (which ends in `curl_easy_perform(handle)`) with the callback installed;
    /// `stopped` tells whether the callback aborted the transfer.
    func perform(_ handle: UnsafeMutableRawPointer, _ perform: () -> CURLcode) -> (code: CURLcode, stopped: Bool) {
        var stop = fg_curl_stop(should_stop: { context in
            Unmanaged<TransferStop>.fromOpaque(context!).takeUnretainedValue().shouldStop() ? 1 : 0
        }, context: Unmanaged.passUnretained(self).toOpaque(), stopped: 0)
        let code = withUnsafeMutablePointer(to: &stop) { pointer in
            fg_curl_stop_when(handle, pointer)
            return perform()
        }
        return (code, stop.stopped != 0)
    }
}
