import Domain

/// Every kind of job the worker runs, one line each; it claims exactly these kinds, each in
/// the lane its kind names. A new kind: its `JobKind` beside the service that queues it, its
/// handler in a file of its own here, and one line below.
let jobHandlers = JobRegistry<WorkerContext>()
    .register(OrderEmailHandler.self)
    .register(FileImportHandler.self)
    .register(FileProbeHandler.self)
    .register(WebhookHandler.self)
    .register(MediaFetchHandler.self)
