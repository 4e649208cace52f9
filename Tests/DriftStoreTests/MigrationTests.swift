import DriftStore
import DriftTestSupport
import Foundation
import Testing

@Suite("Schema migrations")
struct MigrationTests {
    @Test func freshThenRepeated() async throws {
        try await TestDatabase.withSchema(migrate: false) { _, settings in
            let conn = try PGConnection.connect(settings)
            let m = Migrator(schema: settings.schema)
            #expect(try !m.isCurrent(conn))
            let first = try m.migrate(conn)
            #expect(first.applied == Migrations.all.map(\.version) && first.alreadyApplied.isEmpty)
            let again = try m.migrate(conn)
            #expect(again.applied.isEmpty && again.alreadyApplied == Migrations.all.map(\.version))
            #expect(try m.isCurrent(conn))
            let tables = try conn.query("SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1", [settings.schema], name: "t")
                .map { try $0.string("tablename") }
            for t in [
                "capture_events", "drift_feature_results", "drift_runs", "monitors", "reference_profiles", "schema_migrations",
                "shadow_evaluations", "tasks", "trigger_outbox"
            ] {
                #expect(tables.contains(t), "missing table \(t)")
            }
        }
    }

    @Test func eightConcurrentMigratorsApplyEachMigrationOnce() async throws {
        try await TestDatabase.withSchema(migrate: false) { _, settings in
            let outcomes = try await withThrowingTaskGroup(of: Migrator.Outcome.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await Task.detached {
                            try Migrator(schema: settings.schema).migrate(PGConnection.connect(settings))
                        }.value
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let appliedCounts = Dictionary(outcomes.flatMap(\.applied).map { ($0, 1) }, uniquingKeysWith: +)
            #expect(appliedCounts == Dictionary(uniqueKeysWithValues: Migrations.all.map { ($0.version, 1) }))
            let conn = try PGConnection.connect(settings)
            let n = try conn.query("SELECT count(*) AS n FROM schema_migrations", name: "t")[0].int("n")
            #expect(n == Migrations.all.count)
        }
    }

    @Test func dryRunPlanNamesEveryMigration() {
        let plan = Migrator(schema: "drift").plan()
        #expect(plan.hasPrefix("CREATE SCHEMA IF NOT EXISTS \"drift\";"))
        for m in Migrations.all { #expect(plan.contains("-- migration \(m.version): \(m.name)")) }
        #expect(!plan.contains("{{schema}}"))
    }
}
