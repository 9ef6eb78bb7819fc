import Foundation
import Testing
@testable import PomonaPipeline

@Suite struct PipelineConfigurationTests {
    @Test func defaultsWhenTheSectionIsAbsent() throws {
        let configuration = try PipelineConfiguration.load(yaml: "log_level: info\n", source: "test.yml")
        #expect(configuration.spool == PipelineConfiguration.SpoolSettings())
        #expect(configuration.spool.fsync == .always)
        #expect(configuration.spool.whenFull == .block)
        #expect(configuration.delivery.retry.maxAttempts == 0)
        #expect(configuration.outputs.isEmpty)
    }

    @Test func readsEverySpoolDeliveryAndCollectorKey() throws {
        let yaml = """
            pipeline:
              spool: { max_bytes: 2GiB, segment_bytes: 32MiB, fsync: interval, fsync_interval: 250ms, when_full: drop_oldest }
              delivery: { retry_initial_backoff: 2s, retry_max_backoff: 1m, max_attempts: 5, drain_timeout: 3s, dead_letter_max_bytes: 10MiB }
              osquery: { snapshot_mode: per_snapshot }
              collector:
                max_body_bytes: 1MiB
                retry_after_seconds: 9
                sources:
                  - { name: edr, token: "0123456789abcdef0123", sourcetype: "edr:alert" }
                  - { name: vpn, token: "fedcba9876543210fedc" }
            """
        let c = try PipelineConfiguration.load(yaml: yaml, source: "test.yml")
        #expect(c.spool.maxBytes == 2 << 30)
        #expect(c.spool.segmentBytes == 32 << 20)
        #expect(c.spool.fsync == .interval)
        #expect(c.spool.fsyncInterval == 0.25)
        #expect(c.spool.whenFull == .dropOldest)
        #expect(c.delivery.retry == RetryPolicy(initialBackoff: 2, maxBackoff: 60, maxAttempts: 5))
        #expect(c.delivery.drainTimeout == 3)
        #expect(c.delivery.deadLetterMaxBytes == 10 << 20)
        #expect(c.snapshotMode == .perSnapshot)
        #expect(c.collector.maxBodyBytes == 1 << 20)
        #expect(c.collector.retryAfterSeconds == 9)
        #expect(c.collector.sources.map(\.sourcetype) == ["edr:alert", "collector:vpn"])
        try c.validate()
    }

    @Test func errorsNameTheKey() {
        func message(_ yaml: String) -> String {
            do {
                let c = try PipelineConfiguration.load(yaml: yaml, source: "p.yml")
                try c.validate()
                return "no error"
            } catch {
                return error.message
            }
        }
        #expect(message("pipeline:\n  spool: { fsync: sometimes }\n").contains("fsync"))
        #expect(message("pipeline:\n  spool: { max_byte: 1GiB }\n").contains("max_byte"))
        #expect(message("pipeline:\n  spool: { max_bytes: lots }\n").contains("max_bytes"))
        #expect(message("pipeline:\n  spool: { max_bytes: 64MiB, segment_bytes: 64MiB }\n").contains("segment_bytes"))
        #expect(message("pipeline:\n  collector: { sources: [ { name: edr, token: short } ] }\n").contains("16 characters"))
        #expect(message("pipeline:\n  collector: { sources: [ { name: osquery, token: 0123456789abcdef0123 } ] }\n").contains("name"))
        #expect(message("""
            pipeline:
              collector:
                sources:
                  - { name: a, token: 0123456789abcdef0123 }
                  - { name: b, token: 0123456789abcdef0123 }
            """).contains("same token"))
        #expect(message("pipeline:\n  delivery: { retry_initial_backoff: 2m, retry_max_backoff: 1m }\n").contains("retry_initial_backoff"))
        #expect(message("pipeline:\n  nonsense: 1\n").contains("nonsense"))
    }

    @Test func byteSizesAndTheirUnits() {
        #expect(parseByteSize("4096") == 4096)
        #expect(parseByteSize("512KiB") == 512 << 10)
        #expect(parseByteSize("1.5GiB") == 3 << 29)
        #expect(parseByteSize("100MB") == 100_000_000)
        #expect(parseByteSize("many") == nil)
    }
}
