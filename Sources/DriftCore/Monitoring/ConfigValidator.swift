import DriftCapture
import DriftStats
import DriftStore
import DriftTriggers
import Foundation

/// What `validate-config` checks beyond loading: the things a loaded file can still get wrong and that would
/// otherwise fail at run time.
///
/// - A `reference: {file: …}` exists, is a readable file, and reads as the worker reads it (CSV / JSON Lines,
///   gzip allowed; relative paths resolve against `baseDirectory`, the worker's current directory).
/// - Every scalar feature is a column of that file with a compatible kind: a `numeric` feature's values all
///   parse as numbers; a `categorical` feature is not a column of fractional numbers (that is a numeric feature:
///   thousands of one-value categories make every window drift).
/// - An action's templates use only the variables of what fires it: the policy gives `TriggerContext.names`; a
///   shadow evaluation's `on_promote` / `on_reject` give those and `Reader.shadowVariables` ({{challenger}},
///   {{champion}}, {{verdict}}, {{shadow_evaluation_id}}). An action fired by both must do with the policy's.
public enum ConfigValidator {
    /// Every problem found, in file order.
    public static func check(_ doc: MonitorsDocument, baseDirectory: String) -> [ConfigIssue] {
        var out: [ConfigIssue] = []
        for m in doc.monitors {
            out += reference(m, doc, baseDirectory: baseDirectory)
            out += templates(m, doc)
        }
        return ConfigError(issues: out).issues
    }

    static func reference(_ m: MonitorConfig, _ doc: MonitorsDocument, baseDirectory: String) -> [ConfigIssue] {
        guard case .file(let path) = m.reference else { return [] }
        let full = path.hasPrefix("/") ? path : "\(baseDirectory)/\(path)"
        let shown = path.hasPrefix("/") ? path : "\(path) (resolved against \(baseDirectory))"
        func problem(_ message: String) -> [ConfigIssue] { [doc.issue("\(m.name)/reference", "monitor '\(m.name)': \(message)")] }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory) else {
            return problem("the reference file \(shown) does not exist")
        }
        if isDirectory.boolValue { return problem("the reference file \(shown) is a directory") }
        guard FileManager.default.isReadableFile(atPath: full) else {
            return problem("the reference file \(shown) cannot be read (permission denied)")
        }
        let table: Table
        var types: [String: ColumnType] = [:]
        for f in m.features where f.kind != .tensor { types[f.name] = f.kind == .numeric ? .numeric : .text }
        do { table = try TabularFile.read(path: full, options: TableReadOptions(types: types)) } catch let e as TableError {
            return problem("the reference file cannot be used: \(e.description)")
        } catch { return problem("the reference file \(shown) cannot be used (\(error))") }
        var out: [ConfigIssue] = []
        for f in m.features where f.kind != .tensor {
            let at = "\(m.name)/feature/\(f.name)"
            guard let c = table.columnIndex(f.name) else {
                let columns = table.columnNames.prefix(20).joined(separator: ", ") + (table.columnNames.count > 20 ? ", …" : "")
                out.append(
                    doc.issue(at, "monitor '\(m.name)': feature '\(f.name)' is not a column of the reference file \(path) (its columns: \(columns))"))
                continue
            }
            switch f.kind {
            case .numeric:
                do {
                    if try table.numericValues(column: c).allSatisfy(\.isNaN) {
                        out.append(doc.issue(at, "monitor '\(m.name)': feature '\(f.name)' has no values in the reference file \(path)"))
                    }
                } catch let e as TableError {
                    out.append(
                        doc.issue(
                            at,
                            "monitor '\(m.name)': feature '\(f.name)' is numeric, but the reference file does not hold numbers there: \(e.description) Use kind: categorical if it is a label."
                        ))
                } catch {}
            case .categorical:
                let values = table.categoricalValues(column: c)
                if values.allSatisfy({ $0 == nil }) {
                    out.append(doc.issue(at, "monitor '\(m.name)': feature '\(f.name)' has no values in the reference file \(path)"))
                } else if table.isNumeric(column: c),
                    let fraction = (try? table.numericValues(column: c))?.first(where: { $0.isFinite && $0 != $0.rounded() })
                {
                    out.append(
                        doc.issue(
                            at,
                            "monitor '\(m.name)': feature '\(f.name)' is categorical, but the reference file holds fractional numbers there (e.g. \(fraction)); use kind: numeric"
                        ))
                }
            case .tensor: break
            }
        }
        guard out.isEmpty else { return out }
        // anything else the worker's own reading would refuse
        do { _ = try ProfileBuilder.build(table: table, selection: ReferenceStore.selection(m)) } catch let e as CompareError {
            return problem("the reference file cannot be used: \(e.description)")
        } catch let e as TableError {
            return problem("the reference file cannot be used: \(e.description)")
        } catch { return problem("the reference file \(shown) cannot be used (\(error))") }
        return []
    }

    static func templates(_ m: MonitorConfig, _ doc: MonitorsDocument) -> [ConfigIssue] {
        let policyFires = Set(m.policy.actions)
        var shadowFires: [String: [String]] = [:]
        for (name, action) in m.actions {
            guard case .shadowEval(let s) = action else { continue }
            for fired in s.onPromote + s.onReject { shadowFires[fired, default: []].append(name) }
        }
        var out: [ConfigIssue] = []
        for (name, action) in m.actions.sorted(by: { $0.key < $1.key }) {
            guard case .trigger = action, policyFires.contains(name) else { continue }
            var seen = Set<String>()
            for use in doc.templateUses["\(m.name)/\(name)"] ?? [] where !TriggerContext.names.contains(use.variable) {
                guard seen.insert("\(use.variable)|\(use.key)").inserted else { continue }
                let shadow = Reader.shadowVariables.contains(use.variable)
                let why =
                    shadow
                    ? "the policy fires it, and {{\(use.variable)}} is given only to actions a shadow evaluation fires (on_promote / on_reject)"
                    : Reader.followVariables.contains(use.variable)
                        ? "the policy fires it, and {{\(use.variable)}} is given only to actions a followed run fires when it ends (on_success / on_failure)"
                        : "nothing that fires it gives {{\(use.variable)}}"
                let also =
                    shadowFires[name].map {
                        " (it is also fired by \($0.sorted().map { "'\($0)'" }.joined(separator: ", "))); give the policy its own action"
                    } ?? ""
                out.append(
                    ConfigIssue(
                        file: doc.file, line: use.mark?.line ?? doc.places["\(m.name)/action/\(name)"]?.line ?? 1,
                        column: use.mark?.column ?? doc.places["\(m.name)/action/\(name)"]?.column ?? 1,
                        message:
                            "monitor '\(m.name)': action '\(name)' uses {{\(use.variable)}} in `\(use.key)`, but \(why)\(also); the policy's actions can use \(TriggerContext.names.map { "{{\($0)}}" }.joined(separator: ", "))"
                    ))
            }
        }
        return out
    }

    /// Whether `schema` exists in the database and holds every migration of this build, applied with the same
    /// SQL (the checksum `Migrator` records). Each problem is one sentence.
    public static func checkDatabase(_ c: PGConnection, schema: String) throws -> [String] {
        let exists = try c.query("SELECT count(*) AS n FROM pg_namespace WHERE nspname = $1", [schema], name: "validate.schema")[0].int("n") == 1
        guard exists else { return ["the schema \"\(schema)\" does not exist in this database; run `drift-worker migrate`"] }
        let table =
            try c.query(
                "SELECT count(*) AS n FROM pg_tables WHERE schemaname = $1 AND tablename = 'schema_migrations'", [schema],
                name: "validate.migrations_table")[0].int("n") == 1
        guard table else { return ["the schema \"\(schema)\" has no schema_migrations table: no migration is applied; run `drift-worker migrate`"] }
        var applied: [Int: String] = [:]
        for r in try c.query("SELECT version, checksum FROM \"\(schema)\".schema_migrations ORDER BY version", name: "validate.migrations") {
            applied[try r.int("version")] = try r.string("checksum")
        }
        var out: [String] = []
        let missing = Migrations.all.filter { applied[$0.version] == nil }
        if !missing.isEmpty {
            out.append(
                "schema \"\(schema)\": migration(s) \(missing.map { "\($0.version) (\($0.name))" }.joined(separator: ", ")) not applied; run `drift-worker migrate`"
            )
        }
        for m in Migrations.all {
            if let sum = applied[m.version], sum != StableHash.hex(m.sql) {
                out.append(
                    "schema \"\(schema)\": migration \(m.version) (\(m.name)) was applied with different SQL than this build's; a released migration must never change"
                )
            }
        }
        let known = Set(Migrations.all.map(\.version))
        let newer = applied.keys.filter { !known.contains($0) }.sorted()
        if !newer.isEmpty {
            out.append(
                "schema \"\(schema)\" has migration(s) \(newer.map(String.init).joined(separator: ", ")) that this build does not know: the database was migrated by a newer drift-worker"
            )
        }
        return out
    }
}
