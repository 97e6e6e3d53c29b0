//! A small demo catalogue for `tessera dev`: loaded once into an empty database, so GraphiQL
//! and the example shop have something to list, search and order. `catalogue.demo_catalogue`
//! turns it off; the production profile does.

use tessera_kit::Runtime;

use crate::{
    domain::{Status, money::Price},
    store::catalogue::{self, NewProduct},
};

/// A demo product: name, description, price in cents.
type Line = (&'static str, &'static str, i64);

/// Per category: its slug, and ten products.
const CATALOGUE: &[(&str, &[Line])] = &[
    (
        "stationery",
        &[
            ("Fountain pen", "A steel-nib fountain pen with a blue ink cartridge. Refillable.", 2450),
            ("Ballpoint pen, pack of 10", "Smooth black ink, medium point.", 690),
            ("Dotted notebook A5", "192 pages of 100 g/m² paper with a 5 mm dot grid.", 1490),
            ("Pencil set", "Twelve graphite pencils from 6H to 8B, in a tin.", 1190),
            ("Desk organiser", "Oak tray with five compartments for pens and clips.", 3290),
            ("Sticky notes", "Six pads of 100 notes in pastel colours.", 450),
            ("Brass ruler", "A 30 cm ruler with engraved millimetre marks.", 1890),
            ("Letter paper", "Fifty sheets of cotton paper and matching envelopes.", 1690),
            ("Ink bottle", "50 ml of blue-black fountain pen ink.", 1290),
            ("Highlighters", "Five chisel-tip highlighters that do not bleed through.", 590),
        ],
    ),
    (
        "kitchen",
        &[
            ("Chef's knife", "A 20 cm knife forged from one piece of carbon steel.", 8900),
            ("Cast iron pan", "A 26 cm skillet, seasoned and ready to cook.", 5490),
            ("Wooden spoon set", "Three olive wood spoons for stirring and serving.", 1990),
            ("Espresso maker", "A stovetop moka pot for six cups.", 3490),
            ("Tea kettle", "A 1.5 litre enamel kettle that whistles.", 4290),
            ("Cutting board", "End-grain walnut board, 40 by 30 cm.", 6990),
            ("Measuring cups", "Four stainless steel cups with metric and cup marks.", 1590),
            ("Salad bowl", "A large bowl turned from acacia wood.", 2890),
            ("Linen tea towels", "Two towels of washed linen.", 1790),
            ("Pepper mill", "A ceramic grinder you can set from fine to coarse.", 2590),
        ],
    ),
    (
        "garden",
        &[
            ("Pruning shears", "Bypass secateurs for branches up to 2 cm.", 2990),
            ("Watering can", "A 9 litre galvanised can with a brass rose.", 3990),
            ("Tomato seeds", "Heirloom tomato seeds for about forty plants.", 390),
            ("Garden gloves", "Leather gloves that keep thorns out.", 1890),
            ("Hand trowel", "A stainless steel trowel with an ash handle.", 1590),
            ("Bird feeder", "A cedar feeder that hangs from a branch.", 2490),
            ("Terracotta pots", "Three pots of 12, 16 and 20 cm.", 1990),
            ("Compost bin", "A 220 litre bin with a lid and a hatch.", 5990),
            ("Herb planter", "A window box for basil, thyme and mint.", 2290),
            ("Garden hose", "A 20 metre hose that does not kink.", 3490),
        ],
    ),
    (
        "books",
        &[
            ("The Art of Bread", "Sourdough and yeasted loaves, step by step.", 2900),
            ("Maps of the Sea", "A history of sea charts, with 120 colour plates.", 4500),
            ("Learning Rust", "A practical introduction to systems programming in Rust.", 3900),
            ("Field Guide to Birds", "Every bird of the region, with drawings and calls.", 2400),
            ("Quiet Gardens", "Designs for small gardens and balconies.", 3200),
            ("A Year of Soups", "Fifty-two soups, one for every week.", 2200),
            ("The Typewriter", "A short novel about letters never sent.", 1600),
            ("Stars Tonight", "A pocket guide to the night sky.", 1400),
            ("Woodworking Basics", "Joints, tools and ten projects to start with.", 2700),
            ("Poems of the Coast", "A collection of poems about the sea.", 1800),
        ],
    ),
    (
        "audio",
        &[
            ("Wireless headphones", "Over-ear headphones with 30 hours of battery.", 14900),
            ("Bookshelf speakers", "A pair of passive speakers in walnut veneer.", 24900),
            ("Turntable", "A belt-drive record player with a built-in preamp.", 19900),
            ("Portable radio", "An FM and DAB radio that runs on batteries.", 5900),
            ("Earbuds", "In-ear buds with a charging case.", 7900),
            ("Headphone stand", "A beech stand for one pair of headphones.", 2900),
            ("Audio cable", "A 2 metre cable with 3.5 mm plugs.", 990),
            ("Record cleaning kit", "A brush and fluid to keep vinyl quiet.", 1990),
            ("Desk amplifier", "A small stereo amplifier with a volume knob that clicks.", 12900),
            ("Microphone", "A USB microphone for voice and podcasts.", 8900),
        ],
    ),
];

/// Loads the demo catalogue if it is asked for and the catalogue is empty.
pub async fn demo(rt: &Runtime) -> anyhow::Result<()> {
    if !rt.config.catalogue.demo_catalogue || catalogue::count(&rt.db).await? > 0 {
        return Ok(());
    }
    let mut tx = rt.db.begin().await?;
    let mut loaded = 0;
    for (category, lines) in CATALOGUE {
        for (i, (name, description, cents)) in lines.iter().enumerate() {
            let sku = format!("{}-{:03}", category[..3].to_ascii_uppercase(), i + 1);
            let product = NewProduct {
                images: vec![format!("https://picsum.photos/seed/{sku}/480/360")],
                sku,
                name: (*name).to_owned(),
                description: (*description).to_owned(),
                price: Price { amount: *cents, currency: "EUR".into() },
                status: Status::Active,
                categories: vec![(*category).to_owned()],
                // Some sold out, so `inStock` filters something.
                stock: if i % 7 == 6 { 0 } else { 5 + (i as i64 * 13) % 40 },
            };
            catalogue::insert(&mut tx, &product).await?;
            loaded += 1;
        }
    }
    tx.commit().await?;
    tracing::info!(products = loaded, "demo catalogue loaded (catalogue.demo_catalogue: false turns this off)");
    Ok(())
}
