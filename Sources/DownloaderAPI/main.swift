import Dialect

// downloader-api: the Downloader dialect (seed 003) over FastCGI, JSON with `{"detail": …}` errors.
Host.run(DownloaderApp.self)
