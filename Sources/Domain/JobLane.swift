/// A lane of the job queue: a named set of job kinds that the worker serves with threads of
/// its own. A thread claims only its lane's kinds, so a short job (an order email) never
/// waits behind a backlog of long ones (probes, URL imports): at most one poll interval.
///
/// This is the one table of which kind runs where. A new kind of job is one more entry in
/// `kinds` of its lane; a kind in no lane is never claimed (the worker refuses to start
/// without a handler for every kind listed here).
public struct JobLane: Equatable, Sendable {
    public let name: String
    public let kinds: [String]
    /// Worker threads of the lane when its option is not given.
    public let defaultThreads: Int

    public init(name: String, kinds: [String], defaultThreads: Int) {
        self.name = name
        self.kinds = kinds
        self.defaultThreads = defaultThreads
    }

    /// Quick jobs somebody is waiting for: order emails (webhooks will go here).
    public static let short = JobLane(name: "short", kinds: [OrderService.emailJobKind], defaultThreads: 1)

    /// Jobs that may take minutes: URL imports and ffprobe of files (media fetches will go here).
    public static let long = JobLane(name: "long", kinds: [MediaFileService.importJobKind, MediaFileService.probeJobKind],
                                     defaultThreads: 2)

    /// Every lane; each kind is in exactly one.
    public static let all: [JobLane] = [.short, .long]

    /// The lane that runs `kind`, nil when none does.
    public static func of(kind: String) -> JobLane? {
        all.first { $0.kinds.contains(kind) }
    }
}
