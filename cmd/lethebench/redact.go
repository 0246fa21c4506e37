package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/pkg/redact"
)

// redactBenchBytes is the size of the generated chat text Redact is timed
// on: 100 MB, one message per line.
const redactBenchBytes = 100_000_000

// runRedactBench prints the precision and recall of each redaction
// detector on the labelled corpus embedded in pkg/redact,
//
//	bench: redact_email precision=0.991 recall=0.970 tp=… fp=… fn=…
//
// then times Redactor.Redact, called message by message as the redact
// retention action and POST /v1/redact do, over 100 MB of generated chat
// text (about one message in five holding personal data, in several
// languages and formats) on one goroutine:
//
//	bench: redact_throughput mb_per_s=… cpu_mb_per_s=… mb=100 messages=… spans=…
//
// It returns the corpus's parse error, if any.
func runRedactBench(w io.Writer) error {
	scores, err := redact.Evaluate(redact.Corpus())
	if err != nil {
		return fmt.Errorf("redact corpus: %w", err)
	}
	for _, k := range redact.Kinds() {
		sc := scores[k]
		fmt.Fprintf(w, "bench: redact_%s precision=%.3f recall=%.3f tp=%d fp=%d fn=%d\n",
			k, sc.Precision, sc.Recall, sc.TP, sc.FP, sc.FN)
	}

	names, err := redact.EvaluateNames(redact.NamesCorpus())
	if err != nil {
		return fmt.Errorf("names corpus: %w", err)
	}
	fmt.Fprintf(w, "bench: redact_%s precision=%.3f recall=%.3f tp=%d fp=%d fn=%d\n",
		redact.Name, names.Precision, names.Recall, names.TP, names.FP, names.FN)

	text := redactChatText(redactBenchBytes, 6)
	r, err := redact.NewRedactor([]byte("lethebench-redact-secret-0123456789"), "bench-studio")
	if err != nil {
		return err
	}
	known := []string{"Anna Schmidt", "anna.schmidt@example.de"}
	var messages, spans, out int
	runtime.GC()
	start, cpu := time.Now(), selfCPU()
	for rest := text; rest != ""; {
		msg, tail, _ := strings.Cut(rest, "\n")
		red, sp := r.Redact(msg, known...)
		messages, spans, out = messages+1, spans+len(sp), out+len(red)
		rest = tail
	}
	elapsed, cpu := time.Since(start), selfCPU()-cpu
	if out == 0 {
		return fmt.Errorf("redact throughput: no output")
	}
	fmt.Fprintf(w, "bench: redact_throughput mb_per_s=%.1f cpu_mb_per_s=%.1f mb=%d messages=%d spans=%d\n",
		float64(len(text))/1e6/elapsed.Seconds(), rate(len(text), cpu), len(text)/1_000_000, messages, spans)
	return runPeopleBench(w, r, text)
}

// runPeopleBench times Redact over the same text with a dictionary of
// 100,000 known people attached to the tenant's Redactor, by the wall
// clock and by the CPU time of the process (on a loaded machine the wall
// clock mostly measures the wait):
//
//	bench: redact_people_throughput mb_per_s=… cpu_mb_per_s=… mb=100 people=100000 build_ms=… spans=…
func runPeopleBench(w io.Writer, r *redact.Redactor, text string) error {
	firsts := strings.Fields("Anna Ben Chloe David Emma Felix Greta Hugo Ines Jonas Karin Lukas Maria Noah Olga Paul Rita Sven Tina Ugo Vera Wim Xena Yusuf Zoe Ada Grace Will Hope Mark")
	lasts := strings.Fields("Schmidt Müller Novak Rossi Dubois García Jansen Nowak Silva Berg Kowalski Horvat Lindqvist Costa Moreau Fischer Weber Hopper Lovelace Turner")
	names := make([]string, 0, 100_000)
	for i := 0; len(names) < 100_000; i++ {
		// A suffix makes each surname unique, as in a large application.
		names = append(names, firsts[i%len(firsts)]+" "+lasts[(i/len(firsts))%len(lasts)]+strconv.Itoa(i))
	}
	start := time.Now()
	p := redact.NewPeople(names, 100_000)
	build := time.Since(start)
	r.SetPeople(p)
	defer r.SetPeople(nil)
	runtime.GC() // the build's garbage is not the search's cost
	var spans, out int
	start, cpu := time.Now(), selfCPU()
	for rest := text; rest != ""; {
		msg, tail, _ := strings.Cut(rest, "\n")
		red, sp := r.Redact(msg)
		spans, out = spans+len(sp), out+len(red)
		rest = tail
	}
	elapsed, cpu := time.Since(start), selfCPU()-cpu
	if out == 0 {
		return fmt.Errorf("people throughput: no output")
	}
	fmt.Fprintf(w, "bench: redact_people_throughput mb_per_s=%.1f cpu_mb_per_s=%.1f mb=%d people=%d build_ms=%d spans=%d\n",
		float64(len(text))/1e6/elapsed.Seconds(), rate(len(text), cpu), len(text)/1_000_000, p.Len(), build.Milliseconds(), spans)
	return nil
}

// rate is n bytes per d in MB/s, 0 when d is unknown.
func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / 1e6 / d.Seconds()
}

// redactChatText returns size bytes of chat messages, one per line, from
// a fixed seed: plain messages with dates, times, prices and counts, and
// about one in five with an e-mail address, phone number, IBAN, card
// number, IP address, URL credentials or the subject's name.
func redactChatText(size int, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	pick := func(list []string) string { return list[rng.IntN(len(list))] }
	digits := func(n int) string {
		b := make([]byte, n)
		for j := range b {
			b[j] = byte('0' + rng.IntN(10))
		}
		return string(b)
	}
	var b strings.Builder
	b.Grow(size + 512)
	for b.Len() < size {
		if rng.IntN(5) > 0 {
			msg := pick(redactPlain)
			msg = strings.ReplaceAll(msg, "{n}", strconv.Itoa(1+rng.IntN(60)))
			msg = strings.ReplaceAll(msg, "{t}", fmt.Sprintf("%d:%02d", 7+rng.IntN(14), 5*rng.IntN(12)))
			msg = strings.ReplaceAll(msg, "{d}", fmt.Sprintf("%02d.%02d.2024", 1+rng.IntN(28), 1+rng.IntN(12)))
			b.WriteString(msg)
			b.WriteByte('\n')
			continue
		}
		first, last := pick(redactFirstNames), pick(redactLastNames)
		var value string
		kind := rng.IntN(len(redactPersonal))
		switch kind {
		case 0:
			value = strings.ToLower(first+"."+last) + "@" + pick(redactDomains)
		case 1:
			value = pick([]string{"+44 7700 9", "07700 9"}) + digits(5)
			if rng.IntN(2) == 0 {
				value = "06 " + digits(2) + " " + digits(2) + " " + digits(2) + " " + digits(2)
			}
		case 2:
			value = redactIBAN("DE", digits(18))
		case 3:
			value = redactCard("4" + digits(14))
		case 4:
			value = fmt.Sprintf("%d.%d.%d.%d", 11+rng.IntN(180), rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
		case 5:
			value = fmt.Sprintf("https://%s:%s@git.example.org/team/repo.git", strings.ToLower(first), digits(8))
		default:
			value = "Anna Schmidt"
		}
		msg := pick(redactPersonal[kind])
		msg = strings.ReplaceAll(msg, "{name}", first+" "+last)
		msg = strings.ReplaceAll(msg, "{n}", strconv.Itoa(20+rng.IntN(200)))
		b.WriteString(strings.ReplaceAll(msg, "{v}", value))
		b.WriteByte('\n')
	}
	return b.String()
}

// redactIBAN returns the IBAN of country cc and BBAN bban, grouped by four.
func redactIBAN(cc, bban string) string {
	rem := 0
	for _, c := range bban + cc + "00" {
		if c >= 'A' && c <= 'Z' {
			rem = (rem*100 + int(c-'A'+10)) % 97
		} else {
			rem = (rem*10 + int(c-'0')) % 97
		}
	}
	iban := fmt.Sprintf("%s%02d%s", cc, 98-rem, bban)
	var groups []string
	for len(iban) > 4 {
		groups, iban = append(groups, iban[:4]), iban[4:]
	}
	return strings.Join(append(groups, iban), " ")
}

// redactCard completes the 15 digits p with a Luhn check digit and groups
// the card number by four.
func redactCard(p string) string {
	sum := 0
	for j := range len(p) {
		d := int(p[len(p)-1-j] - '0')
		if j%2 == 0 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	n := p + strconv.Itoa((10-sum%10)%10)
	return n[0:4] + " " + n[4:8] + " " + n[8:12] + " " + n[12:16]
}

var (
	redactPlain = []string{
		"I feel anxious about the interview at {t} tomorrow, can we talk before?",
		"Ich habe seit {n} Tagen schlecht geschlafen und bin ständig müde.",
		"J'ai du mal à me concentrer depuis {n} semaines, surtout le matin.",
		"Me siento mejor desde que hago {n} minutos de ejercicio al día.",
		"Ik heb vandaag {n} sollicitatiegesprekken gehad, allebei om {t}.",
		"Estou a dormir {n} horas por noite, é suficiente?",
		"Oggi ho camminato {n}.000 passi e mi sento meglio.",
		"The salary range is €45,000–€55,000 per year with {n} days off.",
		"On a scale of 1 to 10 my stress is about a {n} today.",
		"Das Gehalt liegt bei 4.200 € brutto, 40 Std./Woche, Start am {d}.",
		"Session {n} of 12: breathing exercises, the 4-7-8 technique.",
		"La réunion est reportée au {d} à {t}.",
		"Read chapter 4.2 and pages 120-145 before Monday, ok?",
		"Mijn score op de PHQ-9 was {n}, vorige maand was het hoger.",
		"Ho pagato 1.299,00 € per il corso, rate da 108,25 €.",
		"A consulta custou R$ 250,00 e durou {n} min.",
		"Can you move our call to {t}? Something came up at work.",
		"Thanks, that really helped. I'll try the journaling exercise tonight.",
		"Kannst du am {d} um {t} oder lieber später?",
		"The recruiter said the second round is on {d}, {n} candidates left.",
		"I've been taking 50mg sertraline since March, dose goes up in {n} days.",
		"Order #{n}48213 arrived, but the invoice INV-2024-00{n} is wrong.",
		"Version 1.{n}.3 of the app keeps crashing when I open the diary.",
		"No worries, talk soon! 😊",
	}
	// redactPersonal holds the messages with a value, by kind of value:
	// e-mail, phone, IBAN, card, IPv4, URL credentials, the subject's name.
	redactPersonal = [][]string{
		{"You can reach me at {v} after 6pm.", "Mi correo es {v}, escríbeme cuando quieras.", "Contact {name}: {v}"},
		{"Meine Nummer ist {v}, ruf einfach an.", "Call me on {v} when you're free.", "Mon portable : {v}"},
		{"Bitte überweisen Sie die {n} € auf {v}.", "Mijn rekeningnummer is {v}, t.n.v. {name}."},
		{"My card is {v}, exp 12/27, please charge the session.", "Tarjeta {v}, caduca 03/26."},
		{"Login from {v} at 03:12, was that you?", "Die IP-Adresse {v} wurde gesperrt."},
		{"Clone it with {v} and run make."},
		{"Hi, it's {v} again — {name} said you'd call back.", "{v} hat den Termin am Freitag abgesagt."},
	}
	redactFirstNames = []string{"Anna", "Lukas", "Marie", "João", "Giulia", "Pieter", "Sofía", "Ahmed", "Chloé", "Jan"}
	redactLastNames  = []string{"Schmidt", "Dupont", "García", "Rossi", "de Vries", "Silva", "Khan", "Müller", "Nowak", "Smith"}
	redactDomains    = []string{"example.de", "gmail.com", "orange.fr", "kpnmail.nl", "sapo.pt", "libero.it", "outlook.com"}
)
