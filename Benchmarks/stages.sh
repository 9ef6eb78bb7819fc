#!/usr/bin/env bash
# Throughput of the pipeline stages (splitter, output processor with throttle/enrich/transform) and of
# the two regex engines, without network or spool. Compiles Sources/PomonaPipeline/Stages together
# with Benchmarks/StagesBenchmark/main.swift at -O against the release build's NIOCore, so it needs
# the NIO modules of a release build (`swift build -c release`) but does not rebuild the package.
set -euo pipefail
cd "$(dirname "$0")/.."
release=.build/release
[[ -f $release/Modules/NIOCore.swiftmodule ]] || { echo "needs a release build's NIOCore (swift build -c release)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
objects=()
for module in NIOCore _NIOBase64 DequeModule InternalCollectionsUtilities _NIODataStructures NIOConcurrencyHelpers CNIOAtomics CNIOLinux CNIODarwin CNIOWindows CNIOWASI CNIOOpenBSD CNIOFreeBSD Atomics _AtomicsShims; do
    [[ -d $release/$module.build ]] && while IFS= read -r object; do objects+=("$object"); done < <(find "$release/$module.build" -name '*.o')
done
swiftc -O -wmo -module-name StagesBenchmark -swift-version 6 \
    -I "$release/Modules" $(for d in "$release"/*.build; do [[ -f $d/module.modulemap ]] && echo -I "$d"; done) \
    $(find .build/checkouts/swift-nio/Sources .build/checkouts/swift-atomics/Sources -name include -type d | sed "s/^/-Xcc -I/") \
    Sources/PomonaPipeline/Stages/*.swift Sources/PomonaPipeline/PipelineEvent.swift Sources/PomonaPipeline/SpooledEvent.swift \
    Benchmarks/StagesBenchmark/main.swift "${objects[@]}" -o "${STAGES_BENCHMARK_BINARY:=$work/stages-benchmark}"
"$STAGES_BENCHMARK_BINARY" "$@"
