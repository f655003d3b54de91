package breach

// faq is the support channel's frequently asked questions, shown before the
// form (Rule AA-18). The register's staff keep them here, in this one file.
var faq = []struct{ Question, Answer string }{
	{"API-et svarer 401 Unauthorized. Hva er galt?",
		"Tilgangstokenet mangler, er utløpt eller er utstedt for en annen klient. Hent et nytt token fra tokenendepunktet med klientens nøkkel, og sjekk at scope er riktig. Er klienten stanset av registerforvalteren, får den ikke nye tokener."},
	{"API-et svarer 403 Forbidden. Hva betyr det?",
		"Virksomheten har ikke tilgang til det du spør om: vedtaket dekker ikke oppslaget, tilgangen er suspendert, eller en databehandler mangler gyldig avtale. Svaret forteller årsaken. Se virksomhetens vedtak under Søknader."},
	{"API-et svarer 429 Too Many Requests.",
		"Virksomheten har brukt opp kvoten sin for øyeblikket. Vent så mange sekunder som Retry-After sier, og fordel forespørslene jevnere."},
	{"Hvordan ser jeg om det er driftsforstyrrelser?",
		"Driftsmeldinger og driftshendelser publiseres under Driftsmeldinger, i Atom-strømmen og på e-post til kontaktpersoner som abonnerer."},
	{"Hva er forskjellen på en feil og et avvik?",
		"En feil er at tjenesten ikke virker som den skal. Et avvik er et brudd på personopplysningssikkerheten, for eksempel at opplysninger er kommet på avveie. Avvik meldes under Avvik, ikke her."},
	{"Hvor raskt får vi svar på en feil?",
		"Registerforvalteren setter prioritet: A (kritisk) gir første varsel innen 15 minutter og reaksjon innen 2 arbeidstimer, B (alvorlig) 1 time og 8 arbeidstimer, C (mindre alvorlig) 1 og 5 arbeidsdager."},
}
