import Domain
import Outbound

/// Sends an order's email over SMTP or into the outbox.
enum OrderEmailHandler: JobHandler {
    typealias Kind = OrderEmailJob

    static func run(_ email: OrderEmail, _ lease: JobLease, in context: WorkerContext) throws {
        let mail = context.settings.mail
        let message = MailMessage(from: mail.from, fromName: mail.fromName, to: email.to, toName: email.toName,
                                  subject: email.subject, body: email.body, messageID: "job-\(lease.job.id)@fetchgate")
        do {
            switch mail.transport {
            case .smtp(let smtp): try SMTPClient(settings: smtp).send(message, shouldStop: { lease.isLost })
            case .outbox(let outbox): try outbox.deliver(message, name: "order-\(email.orderNumber)-job-\(lease.job.id)")
            }
        } catch let error as OutboundError {
            throw JobError(outbound: error)
        }
    }
}
