package console

// pages lists the console's pages behind sign-in, in navigation order.
// Add a page here (see the package documentation).
func (c *Console) pages() []Page {
	return []Page{
		{Route: "GET /console/overview", Nav: "Overview", Path: "/console", Handle: c.overview},
		{Route: "GET /console/requests", Nav: "Requests", Path: "/console/requests", Handle: c.requestList},
		{Route: "GET /console/requests/new", Nav: "New request", Path: "/console/requests/new", Handle: c.newRequestForm},
		{Route: "POST /console/requests/new", Handle: c.fileRequest},
		{Route: "GET /console/requests/{id}", Handle: c.requestPage},
		{Route: "POST /console/requests/{id}/cancel", Handle: c.cancelRequest},
		{Route: "POST /console/requests/{id}/extend", Handle: c.extendRequest},
		{Route: "POST /console/requests/{id}/approve", Handle: c.approveRequest},
		{Route: "POST /console/requests/{id}/deny", Handle: c.denyRequest},
		{Route: "GET /console/requests/{id}/certificate", Handle: c.certificate},
		{Route: "GET /console/requests/{id}/export", Handle: c.export},
		{Route: "GET /console/settings", Nav: "Settings", Path: "/console/settings", Studio: true, Handle: c.settingsPage},
		{Route: "POST /console/settings", Handle: c.saveSettings},
		{Route: "GET /console/retention", Nav: "Retention", Path: "/console/retention", Handle: c.retentionPage},
		{Route: "POST /console/retention/dry-run", Handle: c.dryRun},
		{Route: "GET /console/datamap", Nav: "Data map", Path: "/console/datamap", Handle: c.dataMap},
		{Route: "GET /console/records", Nav: "Records (Art. 30)", Path: "/console/records", Handle: c.records},
		{Route: "GET /console/records.csv", Handle: c.recordsFile("csv")},
		{Route: "GET /console/records.json", Handle: c.recordsFile("json")},
		{Route: "GET /console/logo/{tenant}", Handle: c.logo},
		{Route: "GET /console/studio", Nav: "Studio", Path: "/console/studio", Studio: true, Handle: c.studioPage},
		{Route: "POST /console/studio", Handle: c.saveStudio},
		{Route: "POST /console/studio/logo", Handle: c.uploadLogo},
		{Route: "GET /console/studios", Nav: "Studios", Path: "/console/studios", Admin: true, Handle: c.studios},
		{Route: "POST /console/studios/{tenant}/revoke", Admin: true, Handle: c.revokeSessions},
		{Route: "GET /console/holds", Nav: "Holds", Path: "/console/holds", Admin: true, Handle: c.holds},
		{Route: "GET /console/audit", Nav: "Audit trail", Path: "/console/audit", Admin: true, Handle: c.auditTrail},
	}
}
