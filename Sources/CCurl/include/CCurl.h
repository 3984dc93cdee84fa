// Non-variadic doorways into libcurl for Swift (curl_easy_setopt/getinfo are variadic).
#ifndef FETCHGATE_CCURL_H
#define FETCHGATE_CCURL_H
#include <curl/curl.h>
#include <stddef.h>

CURLcode fg_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode fg_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode fg_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode fg_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
/// A string property (valid until the handle is cleaned up); NULL when absent.
const char *fg_curl_getinfo_string(CURL *handle, CURLINFO info);

/// Bytes to upload from memory (SMTP DATA). Owned by the caller for the transfer's duration.
struct fg_curl_source {
    const char *data;
    size_t length;
    size_t position;
};

/// Sets CURLOPT_UPLOAD with a read callback that serves `source`.
CURLcode fg_curl_upload_from(CURL *handle, struct fg_curl_source *source);

#endif

#ifndef FETCHGATE_CCURL_DOWNLOAD
#define FETCHGATE_CCURL_DOWNLOAD
#include <sys/socket.h>

/// Response body to a file descriptor, refusing more than `limit` bytes.
struct fg_curl_sink {
    int fd;
    long long written;
    long long limit;
    int exceeded;
    int failed;
};

/// Sets CURLOPT_WRITEFUNCTION/WRITEDATA to write into `sink`.
CURLcode fg_curl_download_to(CURL *handle, struct fg_curl_sink *sink);

/// The only addresses a transfer may connect to (already checked by the caller).
struct fg_curl_allowed {
    struct sockaddr_storage addresses[16];
    int count;
    int refused;
};

/// Installs an open-socket callback that refuses any address not in `allowed`:
/// the connect-time half of the SSRF guard (no DNS-rebinding window).
CURLcode fg_curl_restrict_connect(CURL *handle, struct fg_curl_allowed *allowed);

/// Asked during a transfer (on every progress report, at least once a second): a nonzero
/// answer of `should_stop(context)` aborts it (CURLE_ABORTED_BY_CALLBACK) and sets `stopped`.
struct fg_curl_stop {
    int (*should_stop)(void *context);
    void *context;
    int stopped;
};

/// Installs a progress callback that asks `stop` whether to go on.
CURLcode fg_curl_stop_when(CURL *handle, struct fg_curl_stop *stop);
#endif

#ifndef FETCHGATE_CCURL_BUCKETS
#define FETCHGATE_CCURL_BUCKETS
#include <curl/header.h>

/// Response body into a caller-owned buffer of `capacity` bytes (an error document, an upload
/// id): the first `capacity` bytes are kept, the rest counted in `total` and dropped.
struct fg_curl_memory {
    char *data;
    size_t capacity;
    size_t length;
    long long total;
};

/// Sets CURLOPT_WRITEFUNCTION/WRITEDATA to collect into `memory`.
CURLcode fg_curl_collect(CURL *handle, struct fg_curl_memory *memory);

/// A request body read from a file range with pread (flat memory whatever the size).
struct fg_curl_file_source {
    int fd;
    long long offset;
    long long remaining;
    long long sent;
    int failed;
};

/// Sets CURLOPT_UPLOAD (a PUT), CURLOPT_INFILESIZE_LARGE and a read callback serving `source`.
CURLcode fg_curl_upload_file(CURL *handle, struct fg_curl_file_source *source);

/// The last value of response header `name` (valid until the next transfer on the handle); NULL when absent.
const char *fg_curl_header(CURL *handle, const char *name);
#endif
