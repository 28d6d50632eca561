import FengqiaoCore
import FengqiaoStore
import Foundation

/// Server-drawn SVG for the hazard statistics page: grouped bar charts and the hazard map's
/// markers (no script, no chart library, no map tiles: the deployments sit on isolated networks).
enum HazardCharts {
    /// One colour per hazard category (§3.8), distinguishable on a light background.
    static let colours: [HazardCategory: String] = [
        .fire: "#d62728", .gas: "#ff7f0e", .buildingSafety: "#8c564b", .electrical: "#bcbd22", .traffic: "#1f77b4", .publicOrder: "#393b79",
        .municipalFacility: "#17becf", .environment: "#2ca02c", .foodDrug: "#e377c2", .specialEquipment: "#9467bd", .naturalDisaster: "#7f7f7f", .other: "#525252",
    ]

    static func colour(_ c: HazardCategory) -> String { colours[c] ?? "#525252" }


    /// A series of a grouped bar chart.
    struct Series {
        var label: String
        var colour: String
        var values: [Int]
    }

    /// Horizontal grouped bars: one group per label, one bar per series, the value written at the
    /// bar's end, a legend on top. Width 360 px fits a phone; the SVG scales with its container.
    static func bars(title: String, labels: [String], series: [Series], width: Double = 360) -> String {
        let barH = 9.0, gap = 2.0, groupGap = 10.0, left = 92.0, right = 34.0, top = 34.0
        let groupH = Double(series.count) * (barH + gap) + groupGap
        let height = top + Double(max(labels.count, 1)) * groupH + 6
        let maxV = max(series.flatMap(\.values).max() ?? 0, 1)
        let span = width - left - right
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(GridMap.escape(title))\">"
        s += "<title>\(GridMap.escape(title))</title>"
        var lx = 4.0
        for se in series {
            s += "<rect x=\"\(SVGChart.f(lx))\" y=\"6\" width=\"10\" height=\"10\" fill=\"\(se.colour)\"/>"
            s += "<text x=\"\(SVGChart.f(lx + 13))\" y=\"15\" font-size=\"10\" fill=\"#1f2d3a\">\(GridMap.escape(se.label))</text>"
            lx += 13 + Double(se.label.count) * 10.5 + 10
        }
        if labels.isEmpty {
            s += "<text x=\"\(SVGChart.f(width / 2))\" y=\"\(SVGChart.f(top + 8))\" text-anchor=\"middle\" font-size=\"11\" fill=\"#5b6b7a\">—</text>"
        }
        for (gi, label) in labels.enumerated() {
            let gy = top + Double(gi) * groupH
            let name = label.count > 7 ? String(label.prefix(7)) + "…" : label
            s += "<text x=\"\(SVGChart.f(left - 4))\" y=\"\(SVGChart.f(gy + Double(series.count) * (barH + gap) / 2 + 3))\" text-anchor=\"end\" font-size=\"10\" fill=\"#1f2d3a\">\(GridMap.escape(name))<title>\(GridMap.escape(label))</title></text>"
            for (si, se) in series.enumerated() {
                let v = gi < se.values.count ? se.values[gi] : 0
                let w = span * Double(v) / Double(maxV)
                let y = gy + Double(si) * (barH + gap)
                s += "<rect x=\"\(SVGChart.f(left))\" y=\"\(SVGChart.f(y))\" width=\"\(SVGChart.f(max(w, v > 0 ? 1 : 0)))\" height=\"\(SVGChart.f(barH))\" fill=\"\(se.colour)\"><title>\(GridMap.escape(label)) · \(GridMap.escape(se.label)): \(v)</title></rect>"
                s += "<text x=\"\(SVGChart.f(left + w + 3))\" y=\"\(SVGChart.f(y + barH - 1))\" font-size=\"9\" fill=\"#1f2d3a\">\(v)</text>"
            }
        }
        s += "<line x1=\"\(SVGChart.f(left))\" y1=\"\(SVGChart.f(top - 4))\" x2=\"\(SVGChart.f(left))\" y2=\"\(SVGChart.f(height - 4))\" stroke=\"#5b6b7a\" stroke-width=\"1\"/>"
        return s + "</svg>"
    }

    /// Marker radius and outline per age class: fresh small and plain, 3–7 days larger with a dark
    /// ring, over 7 days largest with a red dashed ring.
    static func style(_ a: HazardStatsService.AgeClass) -> (r: Double, stroke: String, width: Double, dash: String) {
        switch a {
        case .fresh: (9, "#ffffff", 2, "")
        case .aging: (12, "#1f2d3a", 3, "")
        case .old: (15, "#c0392b", 4, " stroke-dasharray=\"6 3\"")
        }
    }

    /// The community map with open hazards as markers coloured by category, sized by age class,
    /// each linking to its event page, and a legend below the grids.
    /// - Parameter ageLabels: legend labels of the age classes, in `AgeClass.allCases` order.
    static func map(_ m: HazardStatsService.MapData, now: Date, categoryLabel: @escaping (HazardCategory) -> String, ageLabels: [String], noPositionLabel: String) -> String? {
        let cats = HazardCategory.allCases.filter { c in m.markers.contains { $0.category == c } }
        let legendRows = Double((cats.count + 2) / 3 + 1)
        let extra = 24 + (legendRows + 1) * 40
        let centroids = Dictionary(uniqueKeysWithValues: m.grids.compactMap { g in g.polygon.map { (g.id, $0.centroid) } })
        var unplaced = 0
        return GridMap.svg(grids: m.grids, width: 800, linkPrefix: "/grids/", extraHeight: extra) { project, height in
            var s = "<g class=\"hazards\">"
            var perGrid: [UUID: Int] = [:]
            for mk in m.markers.reversed() {
                var point = mk.location ?? mk.buildingID.flatMap { m.buildings[$0]?.location }
                var jitter = (0.0, 0.0)
                if point == nil, let c = centroids[mk.gridID] {
                    // No position: around the grid's centre, spiralling so markers do not cover each other.
                    let n = perGrid[mk.gridID, default: 0]
                    perGrid[mk.gridID] = n + 1
                    let a = Double(n) * 2.4, r = 22 + 9 * Double(n).squareRoot()
                    jitter = (cos(a) * r, sin(a) * r)
                    point = c
                }
                guard let p = point else { unplaced += 1; continue }
                let (x0, y0) = project(p)
                let (x, y) = (x0 + jitter.0, y0 + jitter.1)
                let age = HazardStatsService.AgeClass.of(mk.createdAt, now: now)
                let st = style(age)
                let days = Int(now.timeIntervalSince(mk.createdAt) / 86_400)
                s += "<a href=\"/hazards/\(mk.id.uuidString.lowercased())\"><circle class=\"hz hz-\(mk.category.rawValue) age-\(age.rawValue)\" cx=\"\(SVGChart.f(x))\" cy=\"\(SVGChart.f(y))\" r=\"\(SVGChart.f(st.r))\" fill=\"\(colour(mk.category))\" stroke=\"\(st.stroke)\" stroke-width=\"\(SVGChart.f(st.width))\"\(st.dash)>"
                s += "<title>\(GridMap.escape(categoryLabel(mk.category))) · \(days) d</title></circle></a>"
            }
            s += "</g>"
            // Legend: categories present, then the age classes.
            var y = height + 24
            s += "<g class=\"legend\" font-size=\"24\" fill=\"#1f2d3a\">"
            for (i, c) in cats.enumerated() {
                let x = 18 + Double(i % 3) * 260
                if i > 0 && i % 3 == 0 { y += 40 }
                s += "<circle cx=\"\(SVGChart.f(x))\" cy=\"\(SVGChart.f(y))\" r=\"10\" fill=\"\(colour(c))\"/><text x=\"\(SVGChart.f(x + 18))\" y=\"\(SVGChart.f(y + 8))\">\(GridMap.escape(categoryLabel(c)))</text>"
            }
            if !cats.isEmpty { y += 40 }
            for (i, a) in HazardStatsService.AgeClass.allCases.enumerated() {
                let st = style(a)
                let x = 18 + Double(i) * 230
                s += "<circle cx=\"\(SVGChart.f(x))\" cy=\"\(SVGChart.f(y))\" r=\"\(SVGChart.f(st.r))\" fill=\"#c8ced4\" stroke=\"\(st.stroke == "#ffffff" ? "#5b6b7a" : st.stroke)\" stroke-width=\"\(SVGChart.f(st.width))\"\(st.dash)/>"
                s += "<text x=\"\(SVGChart.f(x + 22))\" y=\"\(SVGChart.f(y + 8))\">\(GridMap.escape(i < ageLabels.count ? ageLabels[i] : a.rawValue))</text>"
            }
            if unplaced > 0 { s += "<text x=\"18\" y=\"\(SVGChart.f(y + 44))\">\(GridMap.escape(noPositionLabel)) \(unplaced)</text>" }
            return s + "</g>"
        }
    }
}
