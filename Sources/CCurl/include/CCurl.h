// Non-variadic doorways into libcurl for Swift (curl_easy_setopt/getinfo are variadic).
#ifndef FETCHGATE_CCURL_H
#define FETCHGATE_CCURL_H
#include <curl/curl.h>
#include <stddef.h>

CURLcode fg_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode fg_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode fg_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode fg_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);

/// Bytes to upload from memory (SMTP DATA). Owned by the caller for the transfer's duration.
struct fg_curl_source {
    const char *data;
    size_t length;
    size_t position;
};

/// Sets CURLOPT_UPLOAD with a read callback that serves `source`.
CURLcode fg_curl_upload_from(CURL *handle, struct fg_curl_source *source);

#endif
