import Foundation
import Logging
import NIOCore
import PomonaCore
import PomonaStore
import Synchronization

extension AgentService {
    /// `carve/begin`: opens a session for a carve the host was asked for (``ExpectedCarves``), no
    /// larger than ``AgentBodyLimits/maxCarveSize``. osquery reads only `session_id` from the
    /// answer (spec §8.2), so any refusal is an error body without one: the carve fails on the
    /// host, nothing is stored.
    public func carveBegin(body: ByteBuffer, authorization: String?, now: Date = Date()) async throws(AgentError) -> [UInt8] {
        let request = try AgentService.parseObject(body)
        let hostID = try authenticate(body: request, authorization: authorization, now: now)
        guard let blockCount = request["block_count"]?.intValue, let blockSize = request["block_size"]?.intValue,
            let carveSize = request["carve_size"]?.intValue
        else { throw .badRequest("block_count, block_size and carve_size must be integers") }
        guard blockSize > 0, blockSize <= limits.carveBlock / 2 else { throw .badRequest("block_size \(blockSize) is out of range") }
        guard carveSize > 0 else { throw .badRequest("carve_size \(carveSize) is out of range") }
        guard carveSize <= limits.maxCarveSize else {
            throw .tooLarge("carve_size \(carveSize) exceeds this server's limit of \(limits.maxCarveSize) bytes (carves.max_size_mb)")
        }
        guard blockCount == (carveSize + blockSize - 1) / blockSize else {
            throw .badRequest("block_count \(blockCount) does not match carve_size \(carveSize) / block_size \(blockSize)")
        }
        let carveID = request["carve_id"]?.stringValue ?? ""
        let requestID = request["request_id"]?.stringValue ?? ""
        guard !carveID.isEmpty else { throw .badRequest("missing carve_id") }
        guard ExpectedCarves.isPlausibleCarveID(carveID), requestID.utf8.count <= 64 else {
            throw .badRequest("carve_id and request_id must be ids of at most 64 letters, digits, - or _")
        }
        guard expectedCarves.withLock({ $0.isExpected(hostID: hostID, carveID: carveID, now: now) }) else {
            logger.warning(
                "carve refused: not requested from this host",
                metadata: ["host_id": "\(hostID)", "carve_id": "\(LogText.escaped(carveID))", "size": "\(carveSize)"])
            throw .badRequest("carve \(carveID) was not requested from this host (run a carve query for it first)")
        }
        var rng = SystemRandomNumberGenerator()
        let sessionID = (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &rng)) }.joined()
        do {
            _ = try await store.beginCarve(
                hostID: hostID, sessionID: sessionID, carveID: carveID, requestID: requestID, blockCount: blockCount,
                blockSize: blockSize, carveSize: carveSize, now: now)
        } catch let error as CarveBeginError {
            throw .badRequest(error.description)
        } catch {
            throw .internalError("carve could not be started")
        }
        logger.info(
            "carve started", metadata: ["host_id": "\(hostID)", "carve_id": "\(LogText.escaped(carveID))", "size": "\(carveSize)"])
        var out = Array("{\"session_id\":".utf8)
        JSONValue.encodeString(sessionID, into: &out)
        out.append(contentsOf: Array(",\"success\":true}".utf8))
        return out
    }

    /// `carve/block`: stores one block. osquery sends no node key here; the random session id
    /// authenticates the block (and, from 5.23, the NodeKey header must match the session's host).
    public func carveBlock(body: ByteBuffer, authorization: String?, now: Date = Date()) async throws(AgentError) -> [UInt8] {
        let request = try AgentService.parseObject(body)
        guard let sessionID = request["session_id"]?.stringValue, !sessionID.isEmpty else { throw .badRequest("missing session_id") }
        guard let blockID = request["block_id"]?.intValue else { throw .badRequest("block_id must be an integer") }
        guard let encoded = request["data"]?.stringValue, let data = Data(base64Encoded: encoded) else {
            throw .badRequest("data must be standard base64")
        }
        if let key = AgentService.nodeKey(body: nil, authorization: authorization) {
            let hostID = registry.authenticate(AgentService.digest(key), now: now)
            let session = try? await store.carveSession(sessionID: sessionID)
            if hostID == nil || (session?.hostID != nil && session?.hostID != hostID) { throw .nodeInvalid() }
        }
        do {
            let session = try await store.storeCarveBlock(sessionID: sessionID, blockID: blockID, data: data, now: now)
            if session.completedAt != nil, blockID == session.blockCount - 1 {
                logger.info("carve complete", metadata: ["carve_id": "\(LogText.escaped(session.carveID))", "bytes": "\(session.carveSize)"])
            }
        } catch let error as CarveBlockError {
            throw .badRequest(error.description)
        } catch {
            throw .internalError("carve block could not be stored")
        }
        return Array("{\"success\":true}".utf8)
    }
}
