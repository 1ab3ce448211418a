/// Imports the Open Power System Data "Household Data" CSV (single-index, any resolution):
/// cumulative kWh registers per house and device become trace meters (docs/TRACES.md, "Open
/// Power System Data").
///
/// Columns are `<country>_<region>_<house>_<device>` (`DE_KN_residential4_grid_import`); the
/// house is the first three parts. Per house: `grid_import` and `grid_export` become one meter
/// `<house>:grid`; `pv` (and `pv_…`) meters `<house>:pv` with the value as export; every other
/// device a meter `<house>:<device>` with the value as import. kWh text with up to three
/// decimals is converted to Wh exactly (`"6321.393"` → 6 321 393).
///
/// ```swift
/// let trace = try OPSDHouseholdImporter.parse(bytes, options: .init(devices: ["grid", "pv"]))
/// let text = try Trace.write(trace.samples)
/// ```
public enum OPSDHouseholdImporter {
    /// Which houses and devices to import, and whether to keep interpolated readings.
    public struct Options: Sendable, Hashable {
        /// House prefixes to import (`DE_KN_residential4`); empty: every house of the file.
        public var houses: [String]
        /// Devices to import: `grid`, `pv`, or a device's column suffix (`heat_pump`); empty:
        /// every device.
        public var devices: [String]
        /// Treat the cells the `interpolated_values` column names as empty (the publisher filled
        /// them by linear interpolation).
        public var dropInterpolated: Bool

        public init(houses: [String] = [], devices: [String] = [], dropInterpolated: Bool = false) {
            self.houses = houses
            self.devices = devices
            self.dropInterpolated = dropInterpolated
        }
    }

    /// The UTC column, required.
    public static let utcColumn = "utc_timestamp"
    /// The local-time column, optional; checked against the UTC column when present.
    public static let localColumn = "cet_cest_timestamp"
    /// The column naming each row's interpolated cells (`a | b`), optional.
    public static let interpolatedColumn = "interpolated_values"

    /// Reads an OPSD household CSV. Errors name the line and the column; with `skipBad`, a row
    /// with a bad or out-of-order timestamp is left out, and so is one meter's reading with a bad
    /// number or a decreasing register (each counted once). A grid reading with only one of
    /// import and export in its row is always left out and counted.
    public static func parse(_ bytes: [UInt8], options: Options = Options(), skipBad: Bool = false, limits: TraceLimits = .opsd) throws(TraceError) -> ParsedTrace {
        guard bytes.count <= limits.maximumBytes else {
            throw TraceError(reason: "the input is \(bytes.count) bytes, more than the limit of \(limits.maximumBytes) bytes")
        }
        var scanner = LineScanner(bytes, maximumLineBytes: limits.maximumLineBytes)
        var layout: Layout?
        while layout == nil, let line = scanner.next() {
            if line.isBlank || line.isComment { continue }
            guard !line.isTooLong else {
                throw TraceError(line: line.number, field: "header", reason: "the line is longer than \(limits.maximumLineBytes) bytes")
            }
            layout = try Layout(header: line, options: options)
        }
        guard let layout else { throw TraceError(reason: "the input is empty: an Open Power System Data household CSV starts with its header utc_timestamp,…") }

        var skips = SkipLog()
        var samples: [TraceSample] = []
        var meters: [String] = []
        var last: [(importWh: Int64, exportWh: Int64, line: Int)?] = Array(repeating: nil, count: layout.plans.count)
        var previous: (millis: Int64, line: Int)?
        var rows = 0
        func bad(_ error: TraceError) throws(TraceError) {
            guard skipBad else { throw error }
            skips.record(error)
        }
        while let line = scanner.next() {
            if line.isBlank || line.isComment { continue }
            rows += 1
            guard rows <= limits.maximumRows else {
                throw TraceError(line: line.number, reason: "more than \(limits.maximumRows) rows: split the file")
            }
            let n = line.number
            let fields: [ArraySlice<UInt8>]
            let millis: Int64
            do throws(TraceError) {
                guard !line.isTooLong else { throw TraceError(line: n, reason: "the line is longer than \(limits.maximumLineBytes) bytes") }
                fields = try inField(nil, line: n) { () throws(Refusal) in try CSVFields.quoted(line.bytes) }
                guard fields.count == layout.count else {
                    throw TraceError(line: n, reason: "expected \(layout.count) fields as in the header, found \(fields.count)")
                }
                millis = try inField(utcColumn, line: n) { () throws(Refusal) in try TraceTime.parse(fields[layout.utc], compactOffset: false) }
                if let previous, millis <= previous.millis {
                    throw TraceError(line: n, field: utcColumn, reason: "\(TraceTime.text(millis: millis)) is not after \(TraceTime.text(millis: previous.millis)) on line \(previous.line): rows must be in increasing time")
                }
                if let local = layout.local, !fields[local].isEmpty {
                    let localMillis = try inField(localColumn, line: n) { () throws(Refusal) in try TraceTime.parse(fields[local], compactOffset: true) }
                    guard localMillis == millis else {
                        throw TraceError(line: n, field: localColumn, reason: "\(shown(fields[local])) is not the same instant as \(utcColumn) \(TraceTime.text(millis: millis))")
                    }
                }
            } catch {
                try bad(error)
                continue
            }
            previous = (millis, n)
            var interpolated: Set<Int> = []
            if options.dropInterpolated, let column = layout.interpolated, !fields[column].isEmpty {
                for name in fields[column].split(separator: UInt8(ascii: "|")) {
                    let trimmed = String(decoding: name, as: UTF8.self).trimmingSpaces
                    if let index = layout.index[trimmed] { interpolated.insert(index) }
                }
            }
            func cell(_ column: Int?) -> ArraySlice<UInt8>? {
                guard let column else { return nil }
                let value = fields[column]
                return value.isEmpty || interpolated.contains(column) ? nil : value
            }
            func kWh(_ column: Int) throws(TraceError) -> Int64 {
                try inField(layout.names[column], line: n) { () throws(Refusal) in
                    try Numbers.decimal(fields[column], fractionDigits: 3, signed: false, excess: .refuse("a whole number of Wh"), unit: "kWh")
                }
            }
            for (index, plan) in layout.plans.enumerated() {
                var importWh: Int64 = 0
                var exportWh: Int64 = 0
                do throws(TraceError) {
                    switch plan.kind {
                    case .consumption(let column):
                        guard cell(column) != nil else { continue }
                        importWh = try kWh(column)
                    case .generation(let column):
                        guard cell(column) != nil else { continue }
                        exportWh = try kWh(column)
                    case .grid(let importColumn, let exportColumn):
                        let importCell = cell(importColumn)
                        let exportCell = cell(exportColumn)
                        if importCell == nil, exportCell == nil { continue }
                        if let importColumn, let exportColumn, (importCell == nil) != (exportCell == nil) {
                            let (empty, full) = importCell == nil ? (importColumn, exportColumn) : (exportColumn, importColumn)
                            let what = interpolated.contains(empty) ? "interpolated (dropped)" : "empty"
                            skips.record(TraceError(line: n, field: layout.names[empty], reason: "\(what) while \(layout.names[full]) has a value: the grid reading of this row is left out"))
                            continue
                        }
                        if let importColumn { importWh = try kWh(importColumn) }
                        if let exportColumn { exportWh = try kWh(exportColumn) }
                    }
                    if let before = last[index] {
                        if importWh < before.importWh {
                            throw TraceError(line: n, field: plan.importName ?? plan.exportName!, reason: "\(EnergyText.kWh(importWh)) kWh is less than \(EnergyText.kWh(before.importWh)) kWh on line \(before.line): registers never decrease")
                        }
                        if exportWh < before.exportWh {
                            throw TraceError(line: n, field: plan.exportName ?? plan.importName!, reason: "\(EnergyText.kWh(exportWh)) kWh is less than \(EnergyText.kWh(before.exportWh)) kWh on line \(before.line): registers never decrease")
                        }
                    }
                } catch {
                    try bad(error)
                    continue
                }
                if last[index] == nil { meters.append(plan.meterID) }
                last[index] = (importWh, exportWh, n)
                guard samples.count < limits.maximumRows else {
                    throw TraceError(line: n, reason: "more than \(limits.maximumRows) samples: split the file or import fewer houses or devices")
                }
                samples.append(TraceSample(millis: millis, meterID: plan.meterID, importWh: importWh, exportWh: exportWh))
            }
        }
        return ParsedTrace(samples: samples, meters: meters, rowsRead: rows, skipped: skips.count, skipReasons: skips.reasons, columns: .registers)
    }

    /// One meter made of one or two columns.
    struct MeterPlan {
        enum Kind {
            case grid(import: Int?, export: Int?)
            case generation(Int)
            case consumption(Int)
        }
        var meterID: String
        var kind: Kind
        var importName: String?
        var exportName: String?
    }

    /// The header, understood.
    struct Layout {
        var count: Int
        var names: [String]
        var index: [String: Int] = [:]
        var utc: Int
        var local: Int?
        var interpolated: Int?
        var plans: [MeterPlan] = []

        init(header line: CSVLine, options: Options) throws(TraceError) {
            func fail(_ reason: String) -> TraceError { TraceError(line: line.number, field: "header", reason: reason) }
            /// A selection that does not match the file is the options' fault, not a line's.
            func unselectable(_ option: String, _ reason: String) -> TraceError { TraceError(field: option, reason: reason) }
            let fields = try inField("header", line: line.number) { () throws(Refusal) in try CSVFields.quoted(line.bytes) }
            names = fields.map { String(decoding: $0, as: UTF8.self) }
            count = names.count
            for (position, name) in names.enumerated() {
                guard index[name] == nil else { throw fail("column '\(name)' appears twice") }
                index[name] = position
            }
            guard let utc = index[OPSDHouseholdImporter.utcColumn] else {
                if names.first == "timestamp" {
                    throw fail("no utc_timestamp column: this looks like a trace already (`gridledger trace check`), not an Open Power System Data file")
                }
                throw fail("no utc_timestamp column: not an Open Power System Data household CSV (single-index, header utc_timestamp,cet_cest_timestamp,DE_KN_…)")
            }
            self.utc = utc
            local = index[OPSDHouseholdImporter.localColumn]
            interpolated = index[OPSDHouseholdImporter.interpolatedColumn]

            // Devices per house, in column order.
            struct House {
                var name: String
                var devices: [(device: String, column: Int)] = []
            }
            var houses: [House] = []
            for (position, name) in names.enumerated() where position != utc && position != local && position != interpolated {
                let parts = name.split(separator: "_", omittingEmptySubsequences: false)
                guard parts.count >= 4, !parts.contains(where: \.isEmpty) else {
                    throw fail("unknown column \(shown(fields[position])): expected \(OPSDHouseholdImporter.utcColumn), \(OPSDHouseholdImporter.localColumn), \(OPSDHouseholdImporter.interpolatedColumn) or <country>_<region>_<house>_<device> such as DE_KN_residential4_grid_import")
                }
                let house = parts[0..<3].joined(separator: "_")
                let device = parts[3...].joined(separator: "_")
                do throws(Refusal) {
                    try MeterID.check(Array("\(house):\(device)".utf8)[...])
                } catch {
                    throw fail("column \(shown(fields[position])) cannot name a meter: \(error.reason)")
                }
                if let existing = houses.firstIndex(where: { $0.name == house }) {
                    houses[existing].devices.append((device, position))
                } else {
                    houses.append(House(name: house, devices: [(device, position)]))
                }
            }
            for wanted in options.houses where !houses.contains(where: { $0.name == wanted }) {
                throw unselectable("house", "no house '\(wanted)' in this file; it has \(houses.map(\.name).joined(separator: ", "))")
            }
            let selectedHouses = options.houses.isEmpty ? houses : houses.filter { options.houses.contains($0.name) }
            func deviceName(_ device: String) -> String { device == "grid_import" || device == "grid_export" ? "grid" : device }
            let available = Set(selectedHouses.flatMap { $0.devices.map { deviceName($0.device) } })
            for wanted in options.devices where !available.contains(wanted) {
                throw unselectable("device", "no device '\(wanted)' in the selected houses; they have \(available.sorted().joined(separator: ", "))")
            }
            for house in selectedHouses {
                var gridPlan: Int?
                for (device, column) in house.devices {
                    let name = deviceName(device)
                    guard options.devices.isEmpty || options.devices.contains(name) else { continue }
                    if name == "grid" {
                        let isImport = device == "grid_import"
                        if gridPlan == nil {
                            gridPlan = plans.count
                            plans.append(MeterPlan(meterID: "\(house.name):grid", kind: .grid(import: nil, export: nil)))
                        }
                        guard case .grid(var importColumn, var exportColumn) = plans[gridPlan!].kind else { continue }
                        if isImport { importColumn = column } else { exportColumn = column }
                        plans[gridPlan!].kind = .grid(import: importColumn, export: exportColumn)
                        if isImport { plans[gridPlan!].importName = names[column] } else { plans[gridPlan!].exportName = names[column] }
                    } else if device == "pv" || device.hasPrefix("pv_") {
                        plans.append(MeterPlan(meterID: "\(house.name):\(device)", kind: .generation(column), exportName: names[column]))
                    } else {
                        plans.append(MeterPlan(meterID: "\(house.name):\(device)", kind: .consumption(column), importName: names[column]))
                    }
                }
            }
            guard !plans.isEmpty else { throw fail("no device columns: nothing to import") }
        }
    }
}

fileprivate extension String {
    /// Without leading and trailing spaces.
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
