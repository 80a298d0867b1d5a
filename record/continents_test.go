package record

import (
	"strings"
	"testing"
)

// poolContinents is the pool's country -> continent table as its DNS serves
// it, written out by continent so a change to countries.go must be made twice.
var poolContinents = map[string]string{
	"africa": "" +
		"ao bf bi bj bw cd cf cg ci cm cv dj dz ea eg eh er et ga gh gm gn gq gw ic ke km lr ls ly " +
		"ma mg ml mr mu mw mz na ne ng re rw sc sd sh sl sn so ss st sz td tg tn tz ug yt za zm zr " +
		"zw",
	"antarctica": "" +
		"aq bv gs hm tf",
	"asia": "" +
		"ae af am az bd bh bn bt bu cc cn cx cy ge hk id il in io iq ir jo jp kg kh kp kr kw kz la " +
		"lb lk mm mn mo mv my np nt om ph pk ps qa sa sg sy th tj tl tm tp tw uz vn yd ye",
	"europe": "" +
		"ad al at ax ba be bg by ch cs cz dd de dk ee es fi fo fr fx gb gg gi gr hr hu ie im is it " +
		"je li lt lu lv mc md me mk mt nl no pl pt ro rs ru se si sj sk sm su tr ua va xk yu",
	"north-america": "" +
		"ag ai an aw bb bl bm bq bs bz ca cr cu cw dm do gd gl gp gt hn ht jm kn ky lc mf mq ms mx " +
		"ni pa pm pr sv sx tc tt us vc vg vi",
	"oceania": "" +
		"ac as au ck cp dg fj fm gu ki mh mp nc nf nr nu nz pf pg pn pw sb ta tk to tv um vu wf ws",
	"south-america": "" +
		"ar bo br cl co ec fk gf gy pe py sr uy ve",
}

// TestContinentTable checks every country against the expected table, and
// the codes where the pool differs from UN M.49 by name.
func TestContinentTable(t *testing.T) {
	want := map[string]string{}
	for cont, codes := range poolContinents {
		for _, cc := range strings.Fields(codes) {
			want[cc] = cont
		}
	}
	for cc, cont := range want {
		if got := Continent(cc); got != cont {
			t.Errorf("Continent(%q) = %q, want %q", cc, got, cont)
		}
	}
	for cc := range continentOf {
		if _, ok := want[cc]; !ok {
			t.Errorf("%s is in countries.go but not in the expected table", cc)
		}
	}
	for cc, cont := range map[string]string{
		"tr": "europe", "cy": "asia", "cc": "asia", "cx": "asia", "io": "asia",
		"aq": "antarctica", "bv": "antarctica", "gs": "antarctica", "hm": "antarctica", "tf": "antarctica",
		"uk": "europe", "gb": "europe",
	} {
		if got := Continent(cc); got != cont {
			t.Errorf("pool difference: Continent(%q) = %q, want %q", cc, got, cont)
		}
	}
}
