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

const char *fg_curl_getinfo_string(CURL *handle, CURLINFO info) {
    char *value = NULL;
    if (curl_easy_getinfo(handle, info, &value) != CURLE_OK) return NULL;
    return value;
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

#include <unistd.h>
#include <errno.h>
#include <netinet/in.h>

static size_t fg_write(char *data, size_t size, size_t count, void *context) {
    struct fg_curl_sink *sink = context;
    size_t n = size * count;
    if (sink->written + (long long)n > sink->limit) { sink->exceeded = 1; return 0; }
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(sink->fd, data + done, n - done);
        if (w < 0) { if (errno == EINTR) continue; sink->failed = errno; return 0; }
        done += (size_t)w;
    }
    sink->written += (long long)n;
    return n;
}

static CURLcode fg_set_writer(CURL *handle, curl_write_callback writer, void *context) {
    CURLcode rc = curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, writer);
    if (rc == CURLE_OK) rc = curl_easy_setopt(handle, CURLOPT_WRITEDATA, context);
    return rc;
}

CURLcode fg_curl_download_to(CURL *handle, struct fg_curl_sink *sink) {
    return fg_set_writer(handle, fg_write, sink);
}

static int fg_same_address(const struct sockaddr *a, const struct sockaddr_storage *b) {
    if (a->sa_family != b->ss_family) return 0;
    if (a->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a->sa_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
        return memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
    }
    return 0;
}

static curl_socket_t fg_open_socket(void *context, curlsocktype purpose, struct curl_sockaddr *address) {
    struct fg_curl_allowed *allowed = context;
    (void)purpose;
    for (int i = 0; i < allowed->count; i++) {
        if (fg_same_address(&address->addr, &allowed->addresses[i])) {
            return socket(address->family, address->socktype, address->protocol);
        }
    }
    allowed->refused = 1;
    return CURL_SOCKET_BAD;
}

CURLcode fg_curl_restrict_connect(CURL *handle, struct fg_curl_allowed *allowed) {
    CURLcode rc = curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, fg_open_socket);
    if (rc == CURLE_OK) rc = curl_easy_setopt(handle, CURLOPT_OPENSOCKETDATA, allowed);
    return rc;
}

static int fg_progress(void *context, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
    (void)dltotal; (void)dlnow; (void)ultotal; (void)ulnow;
    struct fg_curl_stop *stop = context;
    if (stop->should_stop && stop->should_stop(stop->context)) { stop->stopped = 1; return 1; }
    return 0;
}

CURLcode fg_curl_stop_when(CURL *handle, struct fg_curl_stop *stop) {
    CURLcode rc = curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, fg_progress);
    if (rc == CURLE_OK) rc = curl_easy_setopt(handle, CURLOPT_XFERINFODATA, stop);
    if (rc == CURLE_OK) rc = curl_easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);
    return rc;
}

static size_t fg_collect(char *data, size_t size, size_t count, void *context) {
    struct fg_curl_memory *memory = context;
    size_t n = size * count;
    size_t room = memory->capacity - memory->length;
    size_t keep = n < room ? n : room;
    memcpy(memory->data + memory->length, data, keep);
    memory->length += keep;
    memory->total += (long long)n;
    return n;
}

CURLcode fg_curl_collect(CURL *handle, struct fg_curl_memory *memory) {
    return fg_set_writer(handle, fg_collect, memory);
}

static size_t fg_read_file(char *buffer, size_t size, size_t count, void *context) {
    struct fg_curl_file_source *source = context;
    size_t room = size * count;
    size_t want = (long long)room < source->remaining ? room : (size_t)source->remaining;
    if (want == 0) return 0;
    for (;;) {
        ssize_t got = pread(source->fd, buffer, want, (off_t)source->offset);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) { source->failed = got < 0 ? errno : EIO; return CURL_READFUNC_ABORT; }
        source->offset += got;
        source->remaining -= got;
        source->sent += got;
        return (size_t)got;
    }
}

/* A rewind (a redirect or an auth retry) starts the range again. */
static int fg_seek_file(void *context, curl_off_t offset, int origin) {
    struct fg_curl_file_source *source = context;
    if (origin != SEEK_SET) return CURL_SEEKFUNC_CANTSEEK;
    long long start = source->offset - source->sent;
    long long total = source->remaining + source->sent;
    if (offset < 0 || offset > total) return CURL_SEEKFUNC_FAIL;
    source->offset = start + offset;
    source->remaining = total - offset;
    source->sent = offset;
    return CURL_SEEKFUNC_OK;
}

CURLcode fg_curl_upload_file(CURL *handle, struct fg_curl_file_source *source) {
    curl_off_t size = source->remaining;
    CURLcode rc = curl_easy_setopt(handle, CURLOPT_READFUNCTION, fg_read_file);
    if (rc == CURLE_OK) rc = curl_easy_setopt(handle, CURLOPT_READDATA, source);
    if (rc == CURLE_OK) rc = curl_easy_setopt(handle, CURLOPT_SEEKFUNCTION, fg_seek_file);
    if (rc == CURLE_OK) rc = curl_easy_setopt(handle, CURLOPT_SEEKDATA, source);
    if (rc == CURLE_OK) rc = curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
    if (rc == CURLE_OK) rc = curl_easy_setopt(handle, CURLOPT_INFILESIZE_LARGE, size);
    return rc;
}

const char *fg_curl_header(CURL *handle, const char *name) {
    struct curl_header *header = NULL;
    if (curl_easy_header(handle, name, 0, CURLH_HEADER, -1, &header) != CURLHE_OK || header == NULL) return NULL;
    return header->value;
}
