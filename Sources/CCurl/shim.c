#include "CCurl.h"
#include <string.h>

CURLcode fg_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode fg_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode fg_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode fg_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static size_t fg_read(char *buffer, size_t size, size_t count, void *context) {
    struct fg_curl_source *source = context;
    size_t room = size * count;
    size_t left = source->length - source->position;
    size_t n = left < room ? left : room;
    memcpy(buffer, source->data + source->position, n);
    source->position += n;
    return n;
}

CURLcode fg_curl_upload_from(CURL *handle, struct fg_curl_source *source) {
    CURLcode rc = curl_easy_setopt(handle, CURLOPT_READFUNCTION, fg_read);
    if (rc == CURLE_OK) rc = curl_easy_setopt(handle, CURLOPT_READDATA, source);
    if (rc == CURLE_OK) rc = curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
    return rc;
}
