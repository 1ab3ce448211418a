import Foundation
import GridLedgerAggregator
import GridLedgerCore
import Hummingbird
import LedgerCore
import LedgerStore
import Synchronization

/// The handlers of the read API. Each checks who may see what (``Caller``), parses its parameters
/// strictly and answers with one of the bodies of Responses.swift.
final class Routes: Sendable {
    let store: any LedgerStorage
    let engine: LedgerEngine
    let metrics: AggregatorMetrics
    let publicKey: [UInt8]
    let clock: any WallClock
    /// Validating a change against the registry and enqueueing it happen under this lock, so two
    /// requests cannot both pass validation with conflicting changes.
    private let registryWrites = Mutex(())

    init(store: any LedgerStorage, engine: LedgerEngine, metrics: AggregatorMetrics, publicKey: [UInt8], clock: any WallClock) {
        self.store = store
        self.engine = engine
        self.metrics = metrics
        self.publicKey = publicKey
        self.clock = clock
    }

    func register(on router: Router<APIRequestContext>) {
        router.get("/health") { _, _ in try self.health() }
        router.get("/metrics") { _, _ in self.prometheus() }
        router.get("/v1/chain/key") { _, _ in try jsonResponse(ChainKeyBody(publicKey: self.publicKey)) }
        router.get("/v1/blocks") { request, _ in try self.blocks(request) }
        router.get("/v1/blocks/{height}") { _, context in
            try self.block(height: try Parameter.unsigned("height", context), caller: context.caller)
        }
        router.get("/v1/blocks/by-hash/{hash}") { _, context in
            let hash = try Parameter.hash("hash", context)
            guard let height = try self.store.height(ofBlockHash: hash) else { throw APIError.notFound("no block with hash \(Hex.encode(hash))") }
            return try self.block(height: height, caller: context.caller)
        }
        router.get("/v1/meters") { _, context in try self.meters(context.caller) }
        router.get("/v1/members") { _, context in try self.members(context.caller) }
        router.get("/v1/members/{memberId}/invoices/{period}") { request, context in try self.invoice(request, context) }
        router.get("/v1/meters/{meterId}/records") { request, context in try self.records(request, context) }
        router.get("/v1/meters/{meterId}/records/{sequence}/proof") { _, context in try self.proof(context) }
        router.post("/v1/registry") { request, context in try await self.enqueue(request, context) }
        router.get("/v1/registry/pending") { _, context in try self.pending(context.caller) }
        router.get("/v1/refusals") { request, context in try self.refusals(request, context.caller) }
    }

    // MARK: Public

    func health() throws -> Response {
        let statistics = try store.statistics()
        return try jsonResponse(HealthBody(height: try store.latestHeader()?.height, blocks: statistics.blocks, records: statistics.records))
    }

    func prometheus() -> Response {
        let text = Array(metrics.prometheusText().utf8)
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .contentLength: String(text.count)],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
    }

    func blocks(_ request: Request) throws -> Response {
        let from = try Parameter.query("from", request, in: 0...Int64.max, default: 0)
        let limit = Int(try Parameter.query("limit", request, in: 1...Int64(ReadAPI.maximumBlockPage), default: Int64(ReadAPI.defaultBlockPage)))
        var headers = try store.headers(from: UInt64(from), limit: limit + 1)
        var next: UInt64?
        if headers.count > limit {
            headers.removeLast()
            next = headers.last.map { $0.header.height + 1 }
        }
        return try jsonResponse(BlockListBody(blocks: headers.map { BlockHeaderBody($0.header, signature: $0.signature) }, next: next))
    }

    func block(height: UInt64, caller: Caller) throws -> Response {
        guard let block = try store.block(height: height) else { throw APIError.notFound("no block at height \(height)") }
        var body = BlockBody(header: BlockHeaderBody(block.header, signature: block.signature))
        if caller.readsEverything {
            body.records = block.records.enumerated().map { BlockRecordBody(position: $0, envelope: $1) }
            body.events = block.events.map(BlockEventBody.init)
        }
        return try jsonResponse(body)
    }

    // MARK: Members and meters

    func meters(_ caller: Caller) throws -> Response {
        try caller.requireAuthenticated()
        let registry = engine.registry
        let visible: [RegisteredMeter] = if caller.readsEverything {
            registry.meters.values.sorted { $0.meterID < $1.meterID }
        } else if let memberID = caller.memberID {
            registry.meters(ofMember: memberID)
        } else {
            []
        }
        return try jsonResponse(MeterListBody(meters: visible.map(MeterBody.init)))
    }

    func members(_ caller: Caller) throws -> Response {
        try caller.requireAuthenticated()
        let registry = engine.registry
        let visible: [Member] = if caller.readsEverything {
            registry.members.values.sorted { $0.id < $1.id }
        } else {
            caller.memberID.flatMap { registry.members[$0] }.map { [$0] } ?? []
        }
        return try jsonResponse(MemberListBody(members: visible.map(MemberBody.init)))
    }

    /// The meter named by the path, if the caller may read it: 401, 400, 404, 403 in that order.
    func readableMeter(_ context: APIRequestContext) throws -> RegisteredMeter {
        try context.caller.requireAuthenticated()
        let meterID = try Parameter.meterID(context)
        guard let meter = engine.registry.meters[meterID] else { throw APIError.notFound("meter '\(meterID)' is not registered") }
        guard context.caller.mayRead(meter) else { throw APIError.forbidden("meter '\(meterID)' belongs to another member") }
        return meter
    }

    func records(_ request: Request, _ context: APIRequestContext) throws -> Response {
        let meter = try readableMeter(context)
        let from = try Parameter.query("from", request, in: Int64.min...Int64.max, default: 0)
        let to = try Parameter.query("to", request, in: Int64.min...Int64.max, default: Int64.max)
        guard from <= to else { throw APIError.badRequest("from (\(from)) must not be after to (\(to))") }
        let limit = Int(try Parameter.query("limit", request, in: 1...Int64(ReadAPI.maximumRecordPage), default: Int64(ReadAPI.defaultRecordPage)))
        var stored = try store.records(meterID: meter.meterID, fromMillis: from, toMillis: to, limit: limit + 1)
        let more = stored.count > limit
        if more { stored.removeLast() }
        return try jsonResponse(RecordListBody(meterId: meter.meterID, records: try stored.map(RecordBody.init), more: more))
    }

    func proof(_ context: APIRequestContext) throws -> Response {
        let meter = try readableMeter(context)
        let sequence = try Parameter.unsigned("sequence", context, minimum: 1)
        guard let location = try store.location(meterID: meter.meterID, sequence: sequence) else {
            throw APIError.notFound("meter '\(meter.meterID)' has no record \(sequence) in the chain")
        }
        guard let block = try store.block(height: location.height), block.records.indices.contains(location.position) else {
            throw APIError(.internalServerError, "record \(meter.meterID)#\(sequence) points at a missing block \(location.height)")
        }
        return try jsonResponse(InclusionProof.make(block: block, index: location.position))
    }

    // MARK: Registry and audit

    func enqueue(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let caller = context.caller
        try caller.requireOperator()
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > ReadAPI.maximumBodyBytes {
            throw APIError(.contentTooLarge, "the body exceeds \(ReadAPI.maximumBodyBytes) bytes")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: ReadAPI.maximumBodyBytes)
        } catch {
            throw APIError(.contentTooLarge, "the body exceeds \(ReadAPI.maximumBodyBytes) bytes")
        }
        guard buffer.readableBytes > 0 else { throw APIError.badRequest("the body must be one registry change as JSON") }
        let body: RegistryChangeBody
        do {
            body = try JSONDecoder().decode(RegistryChangeBody.self, from: Data(buffer.readableBytesView))
        } catch let error as APIError {
            throw error
        } catch let error as DecodingError {
            throw APIError.badRequest("malformed JSON: \(error.readableDescription)")
        }
        let entry = RegistryEntry(change: try body.change(), recordedMillis: clock.nowMillis(), author: caller.name ?? "api")
        do {
            _ = try LedgerEvent.registry(entry).encoded()
        } catch {
            throw APIError.badRequest("\(error)")
        }
        let id = try registryWrites.withLock { _ throws -> Int64 in
            var registry = engine.registry
            // Entries already applied by the minter but not yet in a block fail here as duplicates: skip them.
            for pending in try store.pendingRegistryEntries() { try? registry.apply(pending.entry.change) }
            do {
                try registry.apply(entry.change)
            } catch {
                throw APIError(.conflict, "\(error)")
            }
            return try store.enqueueRegistryEntry(entry)
        }
        context.logger.info("registry change enqueued", metadata: [
            "registry.id": "\(id)", "registry.change": "\(entry.change.summary)", "registry.author": "\(entry.author)",
        ])
        return try jsonResponse(EnqueuedBody(pending: id, summary: entry.change.summary), status: .accepted)
    }

    func pending(_ caller: Caller) throws -> Response {
        try caller.requireReadsEverything()
        return try jsonResponse(PendingListBody(pending: try store.pendingRegistryEntries().map(PendingEntryBody.init)))
    }

    func refusals(_ request: Request, _ caller: Caller) throws -> Response {
        try caller.requireReadsEverything()
        let limit = Int(try Parameter.query("limit", request, in: 1...Int64(ReadAPI.maximumRefusalPage), default: Int64(ReadAPI.defaultRefusalPage)))
        return try jsonResponse(RefusalListBody(refusals: try store.refusals(limit: limit).map(RefusalBody.init)))
    }
}
