import Foundation
import Testing
import Yams
@testable import PomonaPipeline

@Suite struct OutputConfigurationTests {
    struct Document: Decodable {
        var outputs: [OutputConfiguration]
    }

    func decode(_ yaml: String) throws -> [OutputConfiguration] {
        try YAMLDecoder().decode(Document.self, from: yaml).outputs
    }

    /// The error a document produces, as the operator would read it.
    func failure(_ yaml: String) -> String? {
        do {
            _ = try decode(yaml)
            return nil
        } catch {
            return OutputConfigurationError.unwrap(error)?.description ?? "unexpected \(type(of: error)): \(error)"
        }
    }

    @Test func decodesEveryTypeWithDefaultsAndOverrides() throws {
        let outputs = try decode("""
            outputs:
              - name: splunk
                type: splunk_hec
                url: https://splunk.example.com:8088
                token: abc
                index: osquery
                indexes: { "osquery:status": osquery_status }
                sourcetypes: { "osquery:result": "osquery:results" }
                gzip: true
                batch: { max_bytes: 500000 }
                tls: { ca_file: /etc/pomona/splunk-ca.pem }
              - name: es
                type: opensearch
                url: https://es:9200
                api_key: a2V5
                index: osquery-%Y.%m.%d
              - name: syslog
                type: syslog
                host: 127.0.0.1
                transport: udp
                facility: local3
                severity: notice
              - name: hook
                type: http
                url: http://hook.example.com/in
                headers: { Authorization: Bearer xyz }
                concurrency: 4
                timeout_seconds: 5
              - name: archive
                type: file
                path: /var/lib/pomona/logs/{sourcetype}.log
                keep_files: 3
                fsync: false
            """)
        #expect(outputs.map(\.name) == ["splunk", "es", "syslog", "hook", "archive"])
        guard case .splunkHEC(let hec) = outputs[0], case .elasticsearch(let es) = outputs[1], case .syslog(let syslog) = outputs[2],
              case .http(let hook) = outputs[3], case .file(let file) = outputs[4]
        else {
            Issue.record("wrong cases: \(outputs)")
            return
        }
        #expect(hec.token == "abc" && hec.index == "osquery" && hec.indexes["osquery:status"] == "osquery_status")
        #expect(hec.sourcetypes["osquery:result"] == "osquery:results" && hec.gzip && hec.tls.caFile == "/etc/pomona/splunk-ca.pem")
        #expect(hec.common.batch == OutputBatchConfiguration(maxEvents: 5000, maxBytes: 500_000), "an unset batch key keeps its default")
        #expect(hec.tls.insecureSkipVerify == false, "verification stays on unless written out")
        #expect(es.apiKey == "a2V5" && es.index == "osquery-%Y.%m.%d")
        #expect(syslog.transport == .udp && syslog.port == 514 && syslog.facility == 19 && syslog.severity == 5)
        #expect(syslog.maxMessageBytes == 8192)
        #expect(hook.headers == ["Authorization": "Bearer xyz"] && hook.common.concurrency == 4 && hook.common.timeoutSeconds == 5)
        #expect(file.keepFiles == 3 && file.fsync == false && file.maxFileMB == 512)
    }

    @Test func unknownKeysAreNamedWithTheirPath() {
        #expect(failure("""
            outputs:
              - { name: s, type: splunk_hec, url: "https://x", token: t, tokne: u }
            """)?.hasPrefix("outputs[0].tokne: unknown key") == true)
        #expect(failure("""
            outputs:
              - { name: f, type: file, path: /tmp/x.log }
              - { name: s, type: syslog, host: h, token: t }
            """)?.hasPrefix("outputs[1].token: unknown key") == true, "a key of another output type is unknown here")
        #expect(failure("""
            outputs:
              - { name: s, type: splunk_hec, url: "https://x", token: t, tls: { ca: /x } }
            """)?.hasPrefix("outputs[0].tls.ca: unknown key") == true)
        #expect(failure("""
            outputs:
              - { name: s, type: http, url: "https://x", batch: { max_event: 3 } }
            """)?.hasPrefix("outputs[0].batch.max_event: unknown key") == true)
    }

    /// Errors stay `DecodingError`s with the key's coding path, so a loader that renders decoding
    /// errors (the pipeline file's) names the key without knowing about outputs.
    @Test func errorsAreDecodingErrorsCarryingTheKeyPath() {
        do {
            _ = try decode("outputs: [{ name: s, type: http, url: 'https://x', tls: { ca: /x } }]")
            Issue.record("decoding should fail")
        } catch let DecodingError.dataCorrupted(context) {
            #expect(ConfigKey.render(context.codingPath) == "outputs[0].tls.ca")
            #expect(context.debugDescription.hasPrefix("unknown key (known keys: ca_file, client_certificate"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func missingWrongAndOutOfRangeValuesNameTheKey() {
        #expect(failure("outputs: [{ name: s, type: splunk_hec, url: 'https://x' }]") == "outputs[0].token: is required")
        #expect(failure("outputs: [{ name: s, type: kafka }]")?.hasPrefix("outputs[0].type: \"kafka\" is not one of") == true)
        #expect(failure("outputs: [{ name: s, url: x }]")?.hasPrefix("outputs[0].type: is required") == true)
        #expect(failure("outputs: [{ name: s, type: http, url: 'https://x', gzip: maybe }]") == "outputs[0].gzip: expected true or false")
        #expect(failure("outputs: [{ name: s, type: http, url: 'https://x', concurrency: 0 }]") == "outputs[0].concurrency: must be between 1 and 64")
        #expect(failure("outputs: [{ name: s, type: syslog, host: h, facility: local9 }]")?.hasPrefix("outputs[0].facility: \"local9\" is not one of") == true)
        #expect(failure("outputs: [{ name: s, type: syslog, host: h, transport: tcp, tls: { ca_file: /x } }]")
            == "outputs[0].tls: is only used with transport: tls")
        #expect(failure("outputs: [{ name: s, type: syslog, host: h, concurrency: 2 }]") == "outputs[0].concurrency: must be between 1 and 1")
        #expect(failure("outputs: [{ name: 'a b', type: file, path: /x }]")?.hasPrefix("outputs[0].name:") == true)
    }

    @Test func startUpValidationNamesOutputAndKey() throws {
        func error(_ configuration: OutputConfiguration) -> String? {
            do {
                let output = try makeOutput(configuration)
                Task { await output.shutdown() }
                return nil
            } catch { return error.description }
        }
        #expect(error(.splunkHEC(SplunkHECOutputConfiguration(name: "s", url: "splunk:8088", token: "t")))?
            .hasPrefix("output \"s\": url: \"splunk:8088\" is not an http:// or https:// URL") == true)
        #expect(error(.splunkHEC(SplunkHECOutputConfiguration(name: "s", url: "https://splunk:8088", token: " "))) == "output \"s\": token: must not be empty")
        var hec = SplunkHECOutputConfiguration(name: "s", url: "https://splunk:8088", token: "t")
        hec.tls.caFile = "/nonexistent/ca.pem"
        #expect(error(.splunkHEC(hec))?.hasPrefix("output \"s\": tls.ca_file: cannot read a PEM certificate from /nonexistent/ca.pem") == true)
        hec.tls = OutputTLSConfiguration(clientCertificate: "/x.pem")
        #expect(error(.splunkHEC(hec)) == "output \"s\": tls.client_key: is required with tls.client_certificate")
        var plain = HTTPOutputConfiguration(name: "h", url: "http://hook")
        plain.tls.insecureSkipVerify = true
        #expect(error(.http(plain)) == "output \"h\": tls: is set but url is http://; use https://")
        #expect(error(.elasticsearch(ElasticsearchOutputConfiguration(name: "e", url: "https://es", index: "Osquery-%Y")))
            == "output \"e\": index: \"Osquery-%Y\": index names must be lowercase")
        #expect(error(.elasticsearch(ElasticsearchOutputConfiguration(name: "e", url: "https://es", index: "osquery-%j")))?
            .contains("unsupported field %j") == true)
        var es = ElasticsearchOutputConfiguration(name: "e", url: "https://es")
        es.indexes = ["osquery:status": "status-%Q"]
        #expect(error(.elasticsearch(es))?.hasPrefix("output \"e\": indexes.osquery:status:") == true)
        #expect(error(.file(FileOutputConfiguration(name: "f", path: "/proc/pomona/{sourcetype}.log")))?.hasPrefix("output \"f\": path: cannot create directory /proc/pomona") == true)
        #expect(error(.file(FileOutputConfiguration(name: "f", path: "/tmp/{host}.log"))) == "output \"f\": path: the only placeholder is {sourcetype}")

        let pki = try OutputTestPKI.writeFiles()
        hec.tls = OutputTLSConfiguration(caFile: pki.ca)
        #expect(error(.splunkHEC(hec)) == nil, "a readable CA file passes")
    }
}
