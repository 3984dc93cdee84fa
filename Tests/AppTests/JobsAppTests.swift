import Dialect
import Domain
@testable import JobsAPI
import Foundation
import HTTPCore
import XCTest

/// The jobs dialect (seed 002) in-process: the job object, typed options, 429 with Retry-After at
/// the cap, 409s, batches, usage, list pages, the one error shape.
final class JobsAppTests: FetchDialectTestCase {
    var app: JobsApp!

    override func setUpWithError() throws {
        try super.setUpWithError()
        app = try JobsApp(AppContext(db: context.db, host: try makeHost(["--job-cap", "3"])))
    }

    func send(_ method: String, _ path: String, _ body: String? = nil, query: String = "") -> Response {
        app.handle(body.map { request(method, path, query: query, headers: apiKey, body: $0, contentType: "application/json") }
                   ?? request(method, path, query: query, headers: apiKey))
    }

    func error(_ response: Response, _ status: Int, _ code: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(response.status, status, text(response), file: file, line: line)
        let body = try json(response)
        XCTAssertEqual(Array(body.keys), ["error"], file: file, line: line)
        let error = try XCTUnwrap(body["error"] as? [String: String], file: file, line: line)
        XCTAssertEqual(error["code"], code, text(response), file: file, line: line)
        XCTAssertEqual(error.keys.sorted(), ["code", "message"], file: file, line: line)
    }

    func testCreateShowsTheJobObject() throws {
        let response = send("POST", "/jobs", #"{"url": "http://127.0.0.1:9/v.mp4", "format": "webm", "max_resolution": "720p"}"#)
        XCTAssertEqual(response.status, 201, text(response))
        let job = try json(response)
        XCTAssertEqual(Set(job.keys), ["id", "url", "status", "step", "progress", "error", "error_type", "created_at", "updated_at",
                                       "file", "download_url", "s3_url", "batch_id"])
        XCTAssertEqual(job["status"] as? String, "Pending")
        XCTAssertEqual(job["step"] as? String, "queued")
        XCTAssertEqual(job["progress"] as? Double, 0)
        XCTAssertTrue(job["file"] is NSNull && job["s3_url"] is NSNull && job["batch_id"] is NSNull)
        XCTAssertEqual((job["created_at"] as? Int).map { $0 % 1000 }, 0)
        let id = try XCTUnwrap(job["id"] as? String)
        let fetch = try app.jobs.get(accountID: 1, id: id)
        XCTAssertEqual(fetch.options.format, .webm)
        XCTAssertEqual(fetch.options.maxHeight, 720)
        XCTAssertEqual(fetch.origin, .jobs)
        try error(app.handle(request("GET", "/jobs/\(id)")), 401, "unauthorized")
        try error(send("GET", "/jobs/\(UUID().uuidString.lowercased())"), 404, "not_found")
        try error(send("GET", "/jobs/\(id)/file/v.mp4"), 409, "not_ready")
        try error(send("POST", "/jobs", #"{"url": "http://127.0.0.1:9/v", "end_time": "1:00:61"}"#), 400, "invalid_option")
        try error(send("POST", "/jobs", #"{"url": "http://127.0.0.1:9/v", "subtitles": {"a": 1}}"#), 400, "invalid_option")
        try error(send("POST", "/jobs", #"{"url": "http://127.0.0.1:9/v", "webhook_url": "http://10.0.0.1/h"}"#), 400,
                  "webhook_url_not_allowed")
    }

    func testCapAnswers429WithRetryAfterAndCancelRetryRules() throws {
        var ids: [String] = []
        for _ in 0..<3 {
            let created = send("POST", "/jobs", #"{"url": "http://127.0.0.1:9/v.mp4"}"#)
            XCTAssertEqual(created.status, 201)
            ids.append(try XCTUnwrap(try json(created)["id"] as? String))
        }
        let refused = send("POST", "/jobs", #"{"url": "http://127.0.0.1:9/v.mp4"}"#)
        try error(refused, 429, "too_many_jobs")
        XCTAssertEqual(refused.header("Retry-After"), "5")
        try error(send("POST", "/jobs/bulk", #"{"urls": ["http://127.0.0.1:9/a"]}"#), 429, "too_many_jobs")
        let cancelled = send("DELETE", "/jobs/\(ids[0])")
        XCTAssertEqual(cancelled.status, 200)
        XCTAssertEqual(try json(cancelled)["status"] as? String, "Cancelled")
        XCTAssertEqual(try json(cancelled)["error_type"] as? String, "cancelled")
        try error(send("DELETE", "/jobs/\(ids[0])"), 409, "conflict")
        try error(send("POST", "/jobs/\(ids[1])/retry"), 409, "conflict")
        let retried = send("POST", "/jobs/\(ids[0])/retry")
        XCTAssertEqual(retried.status, 201)
        try error(send("POST", "/jobs/\(ids[0])/retry"), 429, "too_many_jobs")
        let usage = try json(send("GET", "/usage"))
        XCTAssertEqual(usage["active_jobs"] as? Int, 3)
        XCTAssertEqual((usage["limits"] as? [String: Int])?["active_jobs"], 3)
        XCTAssertEqual((usage["jobs"] as? [String: Int])?["Cancelled"], 1)
    }

    func testPausedBatchAndListPages() throws {
        try error(send("POST", "/jobs/bulk", #"{"urls": []}"#), 400, "bad_request")
        let urls = (0..<101).map { "\"http://127.0.0.1:9/\($0)\"" }.joined(separator: ",")
        try error(send("POST", "/jobs/bulk", #"{"urls": [\#(urls)]}"#), 400, "bad_request")
        // The real yt-dlp, behind a guard, finds nothing listening: 502 network, nothing made.
        try error(send("POST", "/jobs/bulk", #"{"playlist_url": "http://127.0.0.1:9/list"}"#), 502, "network")
        let made = send("POST", "/jobs/bulk", #"{"urls": ["http://127.0.0.1:9/a", "http://127.0.0.1:9/b"], "paused": true}"#)
        XCTAssertEqual(made.status, 201, text(made))
        let body = try json(made)
        let batch = try XCTUnwrap(body["batch_id"] as? String)
        let ids = try XCTUnwrap(body["job_ids"] as? [String])
        XCTAssertEqual(body["status"] as? String, "paused")
        let renamed = send("PATCH", "/batch/\(batch)/jobs", #"{"jobs": [{"id": "\#(ids[0])", "filename": "First"}]}"#)
        XCTAssertEqual(renamed.status, 200, text(renamed))
        XCTAssertEqual(try app.jobs.get(accountID: 1, id: ids[0]).options.filename, "First")
        let status = try json(send("GET", "/batch/\(batch)"))
        XCTAssertEqual(status["status"] as? String, "paused")
        XCTAssertEqual(status["counts"] as? [String: Int], ["Pending": 2, "Processing": 0, "Completed": 0, "Failed": 0, "Cancelled": 0])
        XCTAssertEqual((status["jobs"] as? [[String: Any]])?.compactMap { $0["id"] as? String }, ids)
        XCTAssertEqual(send("POST", "/batch/\(batch)/start").status, 200)
        try error(send("POST", "/batch/\(batch)/start"), 409, "conflict")
        try error(send("PATCH", "/batch/\(batch)/jobs", #"{"jobs": [{"id": "\#(ids[0])", "filename": "Late"}]}"#), 409, "conflict")
        let first = try json(send("GET", "/jobs", query: "per_page=1"))
        XCTAssertEqual(Set(first.keys), ["jobs", "per_page", "has_more", "next_cursor"])
        XCTAssertEqual((first["jobs"] as? [[String: Any]])?.first?["id"] as? String, ids[1])
        let cursor = try XCTUnwrap(first["next_cursor"] as? String)
        let second = try json(send("GET", "/jobs", query: "per_page=1&after=\(cursor)&batch_id=\(batch)&status=Pending"))
        XCTAssertEqual((second["jobs"] as? [[String: Any]])?.first?["id"] as? String, ids[0])
        XCTAssertEqual(second["has_more"] as? Bool, false)
        try error(send("GET", "/jobs", query: "status=Done"), 400, "bad_request")
    }

    /// Cancelling the last unfinished job of a started batch completes it: `batch.completed` is
    /// queued with the cancel, once; cancels that leave a job unfinished queue nothing.
    func testCancellingTheLastJobOfABatchAnnouncesIt() throws {
        let made = try json(send("POST", "/jobs/bulk",
                                 #"{"urls": ["http://127.0.0.1:9/a", "http://127.0.0.1:9/b"], "webhook_url": "http://127.0.0.1:9/hook"}"#))
        let ids = try XCTUnwrap(made["job_ids"] as? [String])
        let batch = try XCTUnwrap(made["batch_id"] as? String)
        func hooks() throws -> [String] {
            try context.db.query("SELECT payload FROM jobs WHERE kind = ? ORDER BY id", [WebhookJob.name]).compactMap { $0.string("payload") }
        }
        XCTAssertEqual(send("DELETE", "/jobs/\(ids[0])").status, 200)
        XCTAssertEqual(try hooks(), [])
        XCTAssertEqual(send("DELETE", "/jobs/\(ids[1])").status, 200)
        let sent = try hooks()
        XCTAssertEqual(sent.count, 1)
        let message = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(sent[0].utf8)) as? [String: Any])
        let body = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try XCTUnwrap(message["body"] as? String).utf8)) as? [String: Any])
        XCTAssertEqual(body["type"] as? String, "batch.completed")
        let data = try XCTUnwrap(body["data"] as? [String: Any])
        XCTAssertEqual(data["id"] as? String, batch)
        XCTAssertEqual(data["status"] as? String, "completed")
        XCTAssertEqual((data["counts"] as? [String: Int])?["Cancelled"], 2)
    }

    func testOptionTextAtItsEdges() {
        XCTAssertEqual(OptionText.seconds("12.5"), 12.5)
        XCTAssertEqual(OptionText.seconds("1:02:03.5"), 3723.5)
        XCTAssertEqual(OptionText.seconds("02:59"), 179)
        XCTAssertEqual(OptionText.seconds("0"), 0)
        for refused in ["", ":", "1:60", "1:2:3:4", "-1", "1e3", "inf", "nan", "1.", ".5", "1.5:00", "1:0.5.5", " 1",
                        String(repeating: "1", count: 33)] {
            XCTAssertNil(OptionText.seconds(refused), refused)
        }
        XCTAssertNotNil(OptionText.seconds(String(repeating: "1", count: 32)))
        XCTAssertEqual(OptionText.height("720p", allowed: FetchOptions.allowedHeights), 720)
        XCTAssertEqual(OptionText.height("2160", allowed: FetchOptions.allowedHeights), 2160)
        for refused in ["721", "p", "720pp", "+720", "12160"] {
            XCTAssertNil(OptionText.height(refused, allowed: FetchOptions.allowedHeights), refused)
        }
        XCTAssertEqual([OptionText.bool("true"), OptionText.bool("0"), OptionText.bool("yes")], [true, false, nil])
        XCTAssertEqual(OptionText.list(" en , pt-BR,,"), ["en", "pt-BR"])
    }
}
