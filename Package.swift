// swift-tools-version:5.9
// memgauge for Apple platforms: the C SDK built from this repository's own
// sources (no libcurl: reports go through the NSURLSession sender of the
// Objective-C glue), and the glue that fills defaults from Info.plist and
// follows the app's lifecycle. scripts/apple-manifest-check.sh checks that
// the C source list below is the one scripts/darwin-check.sh compiles.
import PackageDescription

let package = Package(
    name: "memgauge",
    platforms: [
        .iOS(.v13),
        .macOS(.v10_15),
        .tvOS(.v13),
        .watchOS(.v6),
        .visionOS(.v1),
    ],
    products: [
        .library(name: "memgauge", targets: ["memgauge", "MemgaugeApple"]),
    ],
    targets: [
        .target(
            name: "memgauge",
            path: ".",
            sources: [
                "platform/file_darwin.c",
                "platform/identity_darwin.c",
                "platform/platform_darwin.c",
                "platform/pressure_darwin.c",
                "platform/darwin_os.c",
                "platform/darwin_pressure_rules.c",
                "platform/darwin_vminfo.c",
                "platform/file_common.c",
                "platform/refresh.c",
                "base/clock.c",
                "base/file.c",
                "base/thread.c",
                "base/uuid.c",
                "sdk/aggregate.c",
                "sdk/diagnose.c",
                "sdk/journal.c",
                "sdk/log.c",
                "sdk/options.c",
                "sdk/pressure.c",
                "sdk/reading.c",
                "sdk/record.c",
                "sdk/report.c",
                "sdk/sampler.c",
                "sdk/thresholds.c",
                "transport/encode.c",
                "transport/json_out.c",
                "transport/spool.c",
                "transport/retry.c",
                "transport/url.c",
                "transport/queue.c",
                "transport/batch.c",
                "transport/worker.c",
                "transport/send_none.c",
            ],
            publicHeadersPath: "sdk/include",
            cSettings: [
                .headerSearchPath("sdk"),
                .headerSearchPath("platform"),
                .headerSearchPath("transport"),
                .headerSearchPath("base"),
            ],
            linkerSettings: [
                .linkedLibrary("z"),
            ]
        ),
        .target(
            name: "MemgaugeApple",
            dependencies: ["memgauge"],
            path: "apple",
            sources: [
                "memgauge_apple.m",
                "memgauge_urlsession.m",
            ],
            resources: [
                .copy("PrivacyInfo.xcprivacy"),
            ],
            publicHeadersPath: "include",
            linkerSettings: [
                .linkedFramework("Foundation"),
                .linkedFramework("UIKit", .when(platforms: [.iOS, .tvOS, .visionOS])),
            ]
        ),
    ],
    cLanguageStandard: .c11
)
