SELECT
  customers.region AS "customers.region",
  SUM(orders.amount) AS "total_revenue"
FROM gnomon_semantic_test.orders AS orders
LEFT JOIN gnomon_semantic_test.customers AS customers
  ON orders.customer_id = customers.id
GROUP BY
  customers.region
HAVING
  SUM(orders.amount) > 500
ORDER BY
  "total_revenue" DESC NULLS LAST
LIMIT 1000
