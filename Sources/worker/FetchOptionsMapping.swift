import Domain
import Media

extension MediaOptions {
    /// A download job's options as the runner takes them (Media knows nothing of Domain): the
    /// container by name, a clip when either bound is given (no start: from 0; no end: to the end).
    init(_ options: FetchOptions) {
        let clip = options.clipStart != nil || options.clipEnd != nil
            ? MediaClip(start: options.clipStart ?? 0, end: options.clipEnd) : nil
        self.init(container: options.format?.rawValue, audioOnly: options.audioOnly, maxHeight: options.maxHeight, clip: clip,
                  subtitles: options.subtitles, subtitleSidecar: options.subtitleMode == .sidecar)
    }
}

extension FetchedMedia {
    /// The download name (the job's `filename` when given, else the title, cleaned) and the sidecar
    /// subtitles' keys beside the media's.
    init(fetch: Fetch, result: MediaDownloadResult, storageKey: String, contentType: String, ffprobe: String?) {
        self.init(storageKey: storageKey, filename: FetchService.filename(title: fetch.options.filename ?? result.title, ext: result.ext),
                  sizeBytes: result.sizeBytes, contentType: contentType, title: result.title, extractor: result.extractor,
                  duration: result.durationSeconds, ffprobe: ffprobe,
                  sidecars: result.sidecars.map {
                      FetchSidecar(storageKey: FetchService.sidecarKey(publicID: fetch.id, language: $0.language, ext: $0.ext),
                                   language: $0.language, ext: $0.ext, sizeBytes: $0.sizeBytes)
                  })
    }
}
