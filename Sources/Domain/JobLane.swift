/// A lane of the job queue: a set of job kinds that the worker serves with threads of its
/// own. A thread claims only its lane's kinds, so a short job (an order email) never waits
/// behind a backlog of long ones (probes, URL imports): at most one poll interval.
///
/// Each kind names its lane (`JobKind.lane`); the worker's registry (`JobRegistry`) gathers
/// the kinds of each lane from its handlers.
public struct JobLane: Hashable, Sendable {
    public let name: String
    /// Worker threads of the lane when its option is not given.
    public let defaultThreads: Int

    public init(name: String, defaultThreads: Int) {
        self.name = name
        self.defaultThreads = defaultThreads
    }

    /// Quick jobs somebody is waiting for: order emails (webhooks will go here).
    public static let short = JobLane(name: "short", defaultThreads: 1)

    /// Jobs that may take minutes: URL imports and ffprobe of files.
    public static let long = JobLane(name: "long", defaultThreads: 2)

    /// Media fetches (yt-dlp): minutes each, and capped per account when claimed.
    public static let fetch = JobLane(name: "fetch", defaultThreads: 4)

    /// Every lane.
    public static let all: [JobLane] = [.short, .long, .fetch]
}
