import Contracts
import Hummingbird
import Invoicing
import LedgerStore

/// `GET /v1/members/{memberId}/invoices/{period}`: a member's invoice, derived from the chain's
/// contracts and settlements exactly as `gridledger invoice` derives it.
extension Routes {
    func invoice(_ request: Request, _ context: APIRequestContext) throws -> Response {
        let caller = context.caller
        try caller.requireAuthenticated()
        let memberID = try Parameter.path("memberId", context)
        guard isIdentifier(memberID, maximum: 64) else { throw APIError.badRequest("memberId must be 1…64 characters of [A-Za-z0-9._:-]") }
        guard caller.readsEverything || caller.memberID == memberID else {
            throw APIError.forbidden("the invoice of member '\(memberID)' is for that member, operators and auditors")
        }
        let periodID = try Parameter.path("period", context)
        let window: Range<Int64>
        do { window = try BillingPeriod.widestBounds(id: periodID) } catch { throw APIError.badRequest("period: \(error.reason)") }
        let formats = request.uri.queryParameters.getAll("format")
        let format = formats.first.map { String($0) } ?? "json"
        guard formats.count <= 1, format == "json" || format == "csv" else {
            throw APIError.badRequest("query parameter 'format' must be json or csv (once)")
        }

        let documents = try store.deployedContractDocuments()
        let invoice: Invoice
        do {
            let statement = try PeriodStatement(
                periodID: periodID, contractDocuments: documents,
                settlementPayloads: try store.settlementPayloads(fromMillis: window.lowerBound, toMillis: window.upperBound))
            invoice = try statement.invoice(for: memberID)
        } catch let error as InvoiceError {
            switch error {
            case .unknownMember, .noSettlement, .noContract: throw APIError.notFound(error.description)
            case .malformedPeriodID: throw APIError.badRequest(error.description)
            default: throw APIError(.internalServerError, error.description)
            }
        }
        guard format == "csv" else { return try jsonResponse(invoice) }
        let text = Array(invoice.csv().utf8)
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8; header=present", .contentLength: String(text.count),
                .contentDisposition: "attachment; filename=\"invoice-\(memberID)-\(periodID).csv\"",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
    }
}
