// libFuzzer entry point for the pipeline's byte-level code: the osquery log splitter, the
// `/collector` body splitter, RawJSON, field lookups, conditions, transform and throttle stages.
// Built by `.ci/fuzz` with `swiftc -sanitize=fuzzer,address` from those source files (one module,
// linked against the NIOCore objects of the debug build); the properties are in
// `PipelineFuzzChecks.swift`. A violated property traps, which libFuzzer reports as a crash.

@_cdecl("LLVMFuzzerTestOneInput")
public func pomonaPipelineFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let failures = PipelineFuzzChecks.violations(Array(UnsafeBufferPointer(start: data, count: size)))
    if let first = failures.first {
        fatalError("pipeline fuzz property violated: \(first) (\(failures.count) in all)")
    }
    return 0
}
